using System.Globalization;

namespace NexNet.WebDav;

/// <summary>PROPFIND and PROPPATCH: live properties read from the entry, dead ones kept in its record.</summary>
internal sealed partial class WebDavHandler
{
    /// <summary>The live properties, computed from the entry; clients cannot set them.</summary>
    private static readonly XName[] s_live =
    [
        s_dav + "creationdate", s_dav + "displayname", s_dav + "getcontentlength", s_dav + "getcontenttype",
        s_dav + "getetag", s_dav + "getlastmodified", s_dav + "resourcetype", s_dav + "supportedlock", s_dav + "lockdiscovery",
        s_dav + "quota-available-bytes", s_dav + "quota-used-bytes",
    ];

    private async Task PropFindAsync(HttpContext context, string path)
    {
        EntryInfo? entry = Stat(path);
        if (entry is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        XDocument? body = await ReadXmlAsync(context);
        XElement? request = body?.Root;
        if (request is not null && request.Name != s_dav + "propfind")
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        bool names = request?.Element(s_dav + "propname") is not null;
        IReadOnlyList<XName>? asked = request?.Element(s_dav + "prop")?.Elements().Select(e => e.Name).ToList();
        if (request is not null && !names && asked is null && request.Element(s_dav + "allprop") is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        string depth = context.Request.Headers["Depth"].ToString();
        var entries = new List<EntryInfo> { entry };
        if (entry.IsDirectory && depth != "0")
        {
            Collect(entry, depth == "1" ? 1 : int.MaxValue, entries);
        }

        var multistatus = new XElement(s_dav + "multistatus", Namespace());
        foreach (EntryInfo item in entries)
        {
            multistatus.Add(PropertiesOf(item, names, asked));
        }

        await WriteXmlAsync(context, StatusCodes.Status207MultiStatus, multistatus);
    }

    private void Collect(EntryInfo directory, int levels, List<EntryInfo> into)
    {
        foreach (EntryInfo child in List(directory.Path))
        {
            into.Add(child);
            if (child.IsDirectory && levels > 1)
            {
                Collect(child, levels - 1, into);
            }
        }
    }

    private XElement PropertiesOf(EntryInfo entry, bool namesOnly, IReadOnlyList<XName>? asked)
    {
        var found = new List<XElement>();
        var missing = new List<XElement>();
        IReadOnlyList<XElement> dead = DeadProperties.Of(entry);
        if (asked is null)
        {
            found.AddRange(s_live.Select(name => LiveProperty(entry, name)).OfType<XElement>());
            found.AddRange(dead.Select(p => new XElement(p)));
            if (namesOnly)
            {
                found = [.. found.Select(p => new XElement(p.Name))];
            }
        }
        else
        {
            foreach (XName name in asked)
            {
                XElement? value = LiveProperty(entry, name) ?? dead.FirstOrDefault(p => p.Name == name);
                if (value is null)
                {
                    missing.Add(new XElement(name));
                }
                else
                {
                    found.Add(new XElement(value));
                }
            }
        }

        var response = new XElement(s_dav + "response", new XElement(s_dav + "href", HrefOf(entry.Path, entry.IsDirectory)));
        if (found.Count > 0 || missing.Count == 0)
        {
            response.Add(PropStat(found, StatusCodes.Status200OK));
        }

        if (missing.Count > 0)
        {
            response.Add(PropStat(missing, StatusCodes.Status404NotFound));
        }

        return response;
    }

    private XElement? LiveProperty(EntryInfo entry, XName name)
    {
        if (name.Namespace != s_dav)
        {
            return null;
        }

        object? value = name.LocalName switch
        {
            "creationdate" => entry.ModifiedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            "displayname" => entry.Path == VolumePath.Root ? "" : entry.Name,
            "getcontentlength" when !entry.IsDirectory => entry.Size.ToString(CultureInfo.InvariantCulture),
            "getcontenttype" when !entry.IsDirectory => ContentTypeOf(entry.Path),
            "getetag" => ETagOf(entry),
            "getlastmodified" => entry.ModifiedAt.ToString("R", CultureInfo.InvariantCulture),
            "resourcetype" => entry.IsDirectory ? new XElement(s_dav + "collection") : "",
            "supportedlock" => new object[]
            {
                new XElement(s_dav + "lockentry", new XElement(s_dav + "lockscope", new XElement(s_dav + "exclusive")), new XElement(s_dav + "locktype", new XElement(s_dav + "write"))),
                new XElement(s_dav + "lockentry", new XElement(s_dav + "lockscope", new XElement(s_dav + "shared")), new XElement(s_dav + "locktype", new XElement(s_dav + "write"))),
            },
            "lockdiscovery" => locks.Covering(entry.Path).Select(ActiveLock).ToArray(),

            // RFC 4331, for collections: Finder and Explorer show free space from these.
            "quota-available-bytes" when entry.IsDirectory && Space() is { } space => space.Available.ToString(CultureInfo.InvariantCulture),
            "quota-used-bytes" when entry.IsDirectory && Space() is { } space => space.Used.ToString(CultureInfo.InvariantCulture),
            _ => null,
        };
        return value is null ? null : new XElement(name, value);
    }

    /// <summary>The store's disk: what is free for the volume and what the node's store uses.</summary>
    private (long Available, long Used)? Space()
    {
        try
        {
            return (volume.AvailableBytes(), volume.StoredBytes()); // what new files may still take: the free space less the reserve
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static XElement PropStat(IEnumerable<XElement> props, int status) => new(s_dav + "propstat",
        new XElement(s_dav + "prop", props),
        new XElement(s_dav + "status", string.Create(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {ReasonOf(status)}")));

    private static string ReasonOf(int status) => status switch
    {
        StatusCodes.Status200OK => "OK",
        StatusCodes.Status403Forbidden => "Forbidden",
        StatusCodes.Status404NotFound => "Not Found",
        StatusCodes.Status424FailedDependency => "Failed Dependency",
        _ => "",
    };

    /// <summary>Sets and removes dead properties, all or none: a live (protected) one refuses the whole request.</summary>
    private async Task PropPatchAsync(HttpContext context, string path)
    {
        EntryInfo? entry = Stat(path);
        if (entry is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (CheckWrite(context, path, children: false) is { } refused)
        {
            context.Response.StatusCode = refused;
            return;
        }

        XElement? update = (await ReadXmlAsync(context))?.Root;
        if (update?.Name != s_dav + "propertyupdate")
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var changes = new List<(bool Set, XElement Property)>();
        foreach (XElement instruction in update.Elements())
        {
            bool set = instruction.Name == s_dav + "set";
            if (!set && instruction.Name != s_dav + "remove")
            {
                continue;
            }

            foreach (XElement property in instruction.Element(s_dav + "prop")?.Elements() ?? [])
            {
                changes.Add((set, property));
            }
        }

        bool protectedOne = changes.Any(c => s_live.Contains(c.Property.Name));
        var response = new XElement(s_dav + "response", new XElement(s_dav + "href", HrefOf(path, entry.IsDirectory)));
        if (protectedOne)
        {
            foreach ((bool _, XElement property) in changes)
            {
                response.Add(PropStat([new XElement(property.Name)], s_live.Contains(property.Name) ? StatusCodes.Status403Forbidden : StatusCodes.Status424FailedDependency));
            }
        }
        else
        {
            properties.Apply(entry, changes);
            response.Add(PropStat(changes.Select(c => new XElement(c.Property.Name)), StatusCodes.Status200OK));
        }

        await WriteXmlAsync(context, StatusCodes.Status207MultiStatus, new XElement(s_dav + "multistatus", Namespace(), response));
    }
}
