using FsCheck;
using FsCheck.Fluent;
using NexNet.WebDav;

namespace NexNet.UnitTests.WebDav;

/// <summary>
/// The WebDAV If header parser (RFC 4918 §10.4) on the RFC's own examples, on malformed headers (which the
/// server answers with 400, so none may parse), and on any header built from the grammar.
/// </summary>
public class IfHeaderTests
{
    private const string A = "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2";
    private const string B = "urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092";

    [Fact]
    public void Untagged_lists_of_a_token_and_entity_tags()
    {
        IfHeader header = Parse($"""(<{A}> ["I am an ETag"]) (["I am another ETag"])""");
        Assert.Equal(2, header.Lists.Count);
        Assert.All(header.Lists, l => Assert.Null(l.Resource));
        Assert.Equal([new(false, A, null), new(false, null, "\"I am an ETag\"")], header.Lists[0].Conditions);
        Assert.Equal([new(false, null, "\"I am another ETag\"")], header.Lists[1].Conditions);
        Assert.Equal([A], header.Tokens);
    }

    [Fact]
    public void A_token_under_Not_is_a_condition_but_not_a_submitted_token()
    {
        IfHeader header = Parse($"(Not <{A}> <{B}>)");
        Assert.Equal([new(true, A, null), new(false, B, null)], Assert.Single(header.Lists).Conditions);
        Assert.Equal([B], header.Tokens);

        IfHeader noLock = Parse($"(<{A}>) (Not <DAV:no-lock>)");
        Assert.Equal([new(true, "DAV:no-lock", null)], noLock.Lists[1].Conditions);
        Assert.Equal([A], noLock.Tokens);
        Assert.Equal([new(true, A, null)], Parse($"(not\t<{A}>)").Lists[0].Conditions); // Not is case-insensitive
    }

    [Fact]
    public void A_resource_tag_applies_to_every_list_after_it_until_the_next_tag()
    {
        IfHeader header = Parse($"""</resource1> (<{A}> [W/"A weak ETag"]) (["strong ETag"]) <http://www.example.com/specs/> (<{B}>)""");
        Assert.Equal(["/resource1", "/resource1", "http://www.example.com/specs/"], header.Lists.Select(l => l.Resource));
        Assert.Equal("W/\"A weak ETag\"", header.Lists[0].Conditions[1].ETag);
        Assert.Equal([new(false, null, "\"strong ETag\"")], header.Lists[1].Conditions);
        Assert.Equal([A, B], header.Tokens);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("</resource1>")] // a tag with no list
    [InlineData("()")] // a list with no condition
    [InlineData("(Not)")]
    [InlineData($"(<{A}>")] // the list never closes
    [InlineData($"(<{A})")] // nor the token
    [InlineData("([\"etag\")")]
    [InlineData("(\"etag\")")] // an entity tag outside brackets
    [InlineData($"<{A}")]
    [InlineData($"{A}")]
    [InlineData($"(<{A}>) junk")]
    public void A_malformed_header_does_not_parse(string text) => Assert.Null(IfHeader.Parse(text));

    [Fact]
    public void Any_header_built_from_the_grammar_parses_to_what_built_it()
    {
        Gen<string> word = Gen.Elements("urn:uuid:x", "opaquelocktoken:1-2", "DAV:no-lock", "\"e1\"", "W/\"weak tag\"", "/a b", "http://h/p?q=1")
            .SelectMany(start => Gen.Choose(0, 99).Select(n => start + n));
        Gen<IfHeader.Condition> condition = Gen.Zip(Gen.Elements(true, false), Gen.Elements(true, false))
            .SelectMany(kind => word.Select(w => kind.Item2 ? new IfHeader.Condition(kind.Item1, w, null) : new IfHeader.Condition(kind.Item1, null, w)));
        Gen<string?> tag = Gen.OneOf(Gen.Constant<string?>(null), word.Select(w => (string?)w));
        Gen<IfHeader.ConditionList> list = Gen.Zip(tag, condition.NonEmptyListOf())
            .Select(t => new IfHeader.ConditionList(t.Item1, t.Item2.ToArray()));
        Gen<string> space = Gen.Elements("", " ", "  ", "\t", "\r\n ");

        Prop.ForAll(Gen.Zip(list.NonEmptyListOf(), space).ToArbitrary(), built =>
        {
            (IReadOnlyList<IfHeader.ConditionList> lists, string gap) = (built.Item1.ToArray(), built.Item2);
            string text = string.Join(gap, lists.Select(l =>
                (l.Resource is null ? "" : $"<{l.Resource}>{gap}") + "(" + gap +
                string.Join(" ", l.Conditions.Select(c => (c.Not ? "Not " : "") + (c.Token is not null ? $"<{c.Token}>" : $"[{c.ETag}]"))) + gap + ")"));
            IfHeader parsed = Parse(text);

            // An untagged list after a tagged one belongs to that tag, as the grammar reads it.
            string? current = null;
            for (int i = 0; i < lists.Count; i++)
            {
                current = lists[i].Resource ?? current;
                if (parsed.Lists[i].Resource != current || !parsed.Lists[i].Conditions.SequenceEqual(lists[i].Conditions))
                {
                    return false;
                }
            }

            return parsed.Lists.Count == lists.Count;
        }).QuickCheckThrowOnFailure();
    }

    private static IfHeader Parse(string text) => IfHeader.Parse(text) ?? throw new Xunit.Sdk.XunitException($"did not parse: {text}");
}
