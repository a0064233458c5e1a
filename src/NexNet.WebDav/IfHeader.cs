namespace NexNet.WebDav;

/// <summary>
/// The WebDAV If header (RFC 4918 §10.4): lists of conditions on lock tokens and entity tags, optionally
/// tagged with the resource they are about. It is true when any list is true; a list is true when all
/// of its conditions are. Tokens named (not under Not) are the ones the client submits for locked
/// resources.
/// </summary>
internal sealed class IfHeader
{
    private IfHeader(List<ConditionList> lists) => Lists = lists;

    public IReadOnlyList<ConditionList> Lists { get; }

    /// <summary>Every lock token the client presents.</summary>
    public IEnumerable<string> Tokens => Lists.SelectMany(l => l.Conditions).Where(c => !c.Not && c.Token is not null).Select(c => c.Token!);

    /// <summary>Parses the header; null when it is malformed.</summary>
    public static IfHeader? Parse(string text)
    {
        var lists = new List<ConditionList>();
        int i = 0;
        string? resource = null;
        while (true)
        {
            SkipSpaces(text, ref i);
            if (i >= text.Length)
            {
                break;
            }

            if (text[i] == '<')
            {
                int end = text.IndexOf('>', i);
                if (end < 0)
                {
                    return null;
                }

                resource = text[(i + 1)..end];
                i = end + 1;
                continue;
            }

            if (text[i] != '(')
            {
                return null;
            }

            i++;
            var conditions = new List<Condition>();
            while (true)
            {
                SkipSpaces(text, ref i);
                if (i >= text.Length)
                {
                    return null;
                }

                if (text[i] == ')')
                {
                    i++;
                    break;
                }

                bool not = false;
                if (string.Compare(text, i, "Not", 0, 3, StringComparison.OrdinalIgnoreCase) == 0)
                {
                    not = true;
                    i += 3;
                    SkipSpaces(text, ref i);
                }

                if (i >= text.Length)
                {
                    return null;
                }

                char open = text[i];
                char close = open == '<' ? '>' : open == '[' ? ']' : '\0';
                int end = close == '\0' ? -1 : text.IndexOf(close, i + 1);
                if (end < 0)
                {
                    return null;
                }

                string value = text[(i + 1)..end];
                conditions.Add(open == '<' ? new Condition(not, value, null) : new Condition(not, null, value));
                i = end + 1;
            }

            if (conditions.Count == 0)
            {
                return null;
            }

            lists.Add(new ConditionList(resource, conditions));
        }

        return lists.Count == 0 ? null : new IfHeader(lists);
    }

    private static void SkipSpaces(string text, ref int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }
    }

    /// <summary>A list: all conditions must hold for the resource (the request's own when untagged).</summary>
    public sealed record ConditionList(string? Resource, IReadOnlyList<Condition> Conditions);

    /// <summary>A lock token or an entity tag (quoted, as the server sends it), maybe negated.</summary>
    public sealed record Condition(bool Not, string? Token, string? ETag);
}
