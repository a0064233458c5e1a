using System.Xml.Linq;

namespace NexNet.WebDav;

/// <summary>
/// Properties clients set with PROPPATCH (Finder's and Office's metadata), kept per path in memory and
/// moved and copied with their resource. Not persisted yet: the volume's records have no field for
/// them, and writing names and values to a file beside the store would put plaintext on the disk.
/// </summary>
internal sealed class DeadProperties
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<XName, XElement>> _byPath = new(StringComparer.Ordinal);

    public IReadOnlyList<XElement> Of(string path)
    {
        lock (_lock)
        {
            return _byPath.TryGetValue(path, out Dictionary<XName, XElement>? found) ? [.. found.Values] : [];
        }
    }

    public void Set(string path, XElement property)
    {
        lock (_lock)
        {
            if (!_byPath.TryGetValue(path, out Dictionary<XName, XElement>? found))
            {
                _byPath[path] = found = [];
            }

            found[property.Name] = new XElement(property);
        }
    }

    public void Remove(string path, XName name)
    {
        lock (_lock)
        {
            if (_byPath.TryGetValue(path, out Dictionary<XName, XElement>? found))
            {
                found.Remove(name);
            }
        }
    }

    /// <summary>Replaces the properties at or below <paramref name="to"/> with those at or below <paramref name="from"/>; the source keeps its own unless <paramref name="move"/>.</summary>
    public void Transfer(string from, string to, bool move)
    {
        lock (_lock)
        {
            RemoveAtOrBelowUnlocked(to);
            foreach ((string path, Dictionary<XName, XElement> properties) in _byPath.Where(p => p.Key == from || Node.VolumePath.IsWithin(p.Key, from)).ToList())
            {
                _byPath[to + path[from.Length..]] = new Dictionary<XName, XElement>(properties.Select(p => KeyValuePair.Create(p.Key, new XElement(p.Value))));
                if (move)
                {
                    _byPath.Remove(path);
                }
            }
        }
    }

    public void RemoveAtOrBelow(string path)
    {
        lock (_lock)
        {
            RemoveAtOrBelowUnlocked(path);
        }
    }

    private void RemoveAtOrBelowUnlocked(string path)
    {
        foreach (string key in _byPath.Keys.Where(k => k == path || Node.VolumePath.IsWithin(k, path)).ToList())
        {
            _byPath.Remove(key);
        }
    }
}
