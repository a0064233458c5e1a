using System.Globalization;

namespace NexNet.WebDav;

/// <summary>Class 2 locks: LOCK and UNLOCK, and the If header checked before every change.</summary>
internal sealed partial class WebDavHandler
{
    /// <summary>
    /// Whether a change to <paramref name="path"/> may go ahead: every lock that covers it (with
    /// <paramref name="children"/>, also locks below it; and the parent collection's, whose membership
    /// changes) must have its token in the If header (else 423 Locked), and the If header must hold
    /// (else 412). Null when allowed; 400 for an If header that does not parse.
    /// </summary>
    private int? CheckWrite(HttpContext context, string path, bool children, bool evaluateIf = true, bool needLocks = true)
    {
        string text = context.Request.Headers["If"].ToString();
        IfHeader? condition = text.Length == 0 ? null : IfHeader.Parse(text);
        if (text.Length > 0 && condition is null)
        {
            return StatusCodes.Status400BadRequest;
        }

        if (needLocks)
        {
            var submitted = new HashSet<string>(condition?.Tokens ?? [], StringComparer.Ordinal);
            IEnumerable<DavLock> relevant = locks.Covering(path);
            if (children)
            {
                relevant = relevant.Concat(locks.AtOrBelow(path));
            }

            if (path != VolumePath.Root)
            {
                relevant = relevant.Concat(locks.Covering(VolumePath.Parent(path)));
            }

            if (relevant.Any(l => !submitted.Contains(l.Token)))
            {
                return StatusCodes.Status423Locked;
            }
        }

        return evaluateIf && condition is not null && !Holds(context, condition, path) ? StatusCodes.Status412PreconditionFailed : null;
    }

    private bool Holds(HttpContext context, IfHeader header, string requestPath) => header.Lists.Any(list =>
    {
        string? resource = list.Resource is null ? requestPath : PathOfUri(context, list.Resource);
        if (resource is null)
        {
            return false;
        }

        EntryInfo? entry = volume.Stat(resource);
        return list.Conditions.All(c =>
        {
            bool matches = c.Token is not null
                ? locks.Covering(resource).Any(l => l.Token == c.Token)
                : entry is not null && TrimWeak(c.ETag!) == ETagOf(entry);
            return matches != c.Not;
        });
    });

    private static string TrimWeak(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag[2..] : tag;

    private async Task LockAsync(HttpContext context, string path)
    {
        HttpResponse response = context.Response;
        XDocument? body = await ReadXmlAsync(context);
        TimeSpan timeout = TimeoutOf(context.Request.Headers["Timeout"].ToString());
        if (body is null)
        {
            // A refresh: the lock's token in the If header.
            string text = context.Request.Headers["If"].ToString();
            DavLock? refreshed = IfHeader.Parse(text)?.Tokens.Select(locks.Find).FirstOrDefault(l => l is not null && l.Covers(path));
            if (refreshed is null)
            {
                response.StatusCode = text.Length == 0 ? StatusCodes.Status400BadRequest : StatusCodes.Status412PreconditionFailed;
                return;
            }

            refreshed.Refresh(timeout);
            await WriteXmlAsync(context, StatusCodes.Status200OK, new XElement(s_dav + "prop", Namespace(), new XElement(s_dav + "lockdiscovery", ActiveLock(refreshed))));
            return;
        }

        XElement? info = body.Root;
        if (info?.Name != s_dav + "lockinfo" || info.Element(s_dav + "lockscope")?.Elements().FirstOrDefault() is not { } scope)
        {
            response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        string depth = context.Request.Headers["Depth"].ToString();
        if (depth.Length > 0 && depth != "0" && !depth.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        EntryInfo? entry = volume.Stat(path);
        if (entry is null && volume.Stat(VolumePath.Parent(path)) is not { IsDirectory: true })
        {
            response.StatusCode = StatusCodes.Status409Conflict;
            return;
        }

        if (CheckWrite(context, path, children: false, needLocks: false) is { } refused)
        {
            response.StatusCode = refused;
            return;
        }

        bool exclusive = scope.Name == s_dav + "exclusive";
        bool infinite = depth != "0" && entry is { IsDirectory: true };
        XElement? owner = info.Element(s_dav + "owner") is { } o ? new XElement(o) : null;
        DavLock? taken = locks.TryTake(path, exclusive, infinite, owner, timeout);
        if (taken is null)
        {
            response.StatusCode = StatusCodes.Status423Locked;
            return;
        }

        if (entry is null)
        {
            // A lock on an unmapped URL makes an empty resource (RFC 4918 §9.10.4).
            await volume.WriteFileAsync(path, Stream.Null, EntryInfo.DefaultFileMode, null, context.RequestAborted);
        }

        response.Headers["Lock-Token"] = $"<{taken.Token}>";
        await WriteXmlAsync(context, entry is null ? StatusCodes.Status201Created : StatusCodes.Status200OK,
            new XElement(s_dav + "prop", Namespace(), new XElement(s_dav + "lockdiscovery", ActiveLock(taken))));
    }

    private Task UnlockAsync(HttpContext context, string path)
    {
        string token = context.Request.Headers["Lock-Token"].ToString().Trim().TrimStart('<').TrimEnd('>');
        if (token.Length == 0)
        {
            return Status(context, StatusCodes.Status400BadRequest);
        }

        DavLock? held = locks.Find(token);
        if (held is null || !held.Covers(path))
        {
            return Status(context, StatusCodes.Status409Conflict);
        }

        locks.Release(token);
        return Status(context, StatusCodes.Status204NoContent);
    }

    /// <summary><c>Second-N</c> (capped) or <c>Infinite</c> (the cap); the first of a list that parses.</summary>
    private static TimeSpan TimeoutOf(string header)
    {
        foreach (string part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.Equals("Infinite", StringComparison.OrdinalIgnoreCase))
            {
                return LockManager.MaxTimeout;
            }

            if (part.StartsWith("Second-", StringComparison.OrdinalIgnoreCase) && long.TryParse(part[7..], NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
            {
                return TimeSpan.FromSeconds(Math.Clamp(seconds, 1, (long)LockManager.MaxTimeout.TotalSeconds));
            }
        }

        return LockManager.MaxTimeout;
    }

    private XElement ActiveLock(DavLock held) => new(s_dav + "activelock",
        new XElement(s_dav + "locktype", new XElement(s_dav + "write")),
        new XElement(s_dav + "lockscope", new XElement(s_dav + (held.Exclusive ? "exclusive" : "shared"))),
        new XElement(s_dav + "depth", held.Infinite ? "infinity" : "0"),
        held.Owner is null ? null : new XElement(held.Owner),
        new XElement(s_dav + "timeout", string.Create(CultureInfo.InvariantCulture, $"Second-{(long)held.Timeout.TotalSeconds}")),
        new XElement(s_dav + "locktoken", new XElement(s_dav + "href", held.Token)),
        new XElement(s_dav + "lockroot", new XElement(s_dav + "href", HrefOf(held.Path, volume.Stat(held.Path)?.IsDirectory == true))));

    private static XAttribute Namespace() => new(XNamespace.Xmlns + "D", "DAV:");
}
