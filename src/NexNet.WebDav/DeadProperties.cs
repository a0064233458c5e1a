namespace NexNet.WebDav;

/// <summary>
/// Properties clients set with PROPPATCH, kept in the entry's sealed record (<see cref="EntryInfo.Properties"/>):
/// encrypted like everything else, replicated to the other nodes, moved with a MOVE and kept when a PUT
/// or a write through the mount replaces the contents. Stored as <c>{namespace}name</c> → the element's XML.
/// </summary>
internal sealed class DeadProperties(Volume volume)
{
    public static IReadOnlyList<XElement> Of(EntryInfo entry) =>
        entry.Properties is { } stored ? [.. stored.Values.Select(xml => XElement.Parse(xml))] : [];

    /// <summary>Applies sets and removals in order, as one change to the entry.</summary>
    public void Apply(EntryInfo entry, IEnumerable<(bool Set, XElement Property)> changes)
    {
        var properties = new Dictionary<string, string>(entry.Properties ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach ((bool set, XElement property) in changes)
        {
            string key = property.Name.ToString();
            if (set)
            {
                properties[key] = property.ToString(SaveOptions.DisableFormatting);
            }
            else
            {
                properties.Remove(key);
            }
        }

        volume.SetProperties(entry.Path, properties);
    }

    /// <summary>Gives a copy the properties of its source.</summary>
    public void CopyTo(EntryInfo source, string destination)
    {
        if (source.Properties is { Count: > 0 } properties)
        {
            volume.SetProperties(destination, properties);
        }
    }
}
