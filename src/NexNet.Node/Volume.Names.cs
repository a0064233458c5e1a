
namespace NexNet.Node;

/// <summary>Directories, links and names: mkdir, symlink, attributes and properties, delete (recursive on request) and rename of whole subtrees.</summary>
public sealed partial class Volume
{
    public EntryInfo CreateDirectory(string path, uint mode = EntryInfo.DefaultDirectoryMode, Durability durability = Durability.Full)
    {
        path = VolumePath.Normalize(path);
        if (Stat(path) is not null)
        {
            throw new VolumeException(VolumeError.AlreadyExists, $"{path} already exists");
        }

        EnsureParents(path, durability);
        Commit(NewEntry(path, EntryKind.Directory, mode), durability);
        return Stat(path)!;
    }

    public EntryInfo CreateSymlink(string path, string target, Durability durability = Durability.Full)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        path = VolumePath.Normalize(path);
        if (Stat(path) is not null)
        {
            throw new VolumeException(VolumeError.AlreadyExists, $"{path} already exists");
        }

        EnsureParents(path, durability);
        Entry entry = NewEntry(path, EntryKind.Symlink, 0x1FF);
        entry.Target = target;
        entry.Size = (ulong)System.Text.Encoding.UTF8.GetByteCount(target);
        Commit(entry, durability);
        return Stat(path)!;
    }

    /// <summary>Changes permission bits and/or the modification time.</summary>
    public EntryInfo SetAttributes(string path, uint? mode = null, DateTimeOffset? modifiedAt = null, Durability durability = Durability.Full)
    {
        EntryInfo info = Stat(path) ?? throw new VolumeException(VolumeError.NotFound, $"{path} does not exist");
        Entry entry = EntryCodec.ToEntry(info with { Mode = mode is { } m ? m & 0xFFF : info.Mode, ModifiedAt = modifiedAt ?? info.ModifiedAt });
        Commit(entry, durability);
        return Stat(info.Path)!;
    }

    /// <summary>Replaces the client properties of an entry (WebDAV's PROPPATCH); null or empty removes them all.</summary>
    public EntryInfo SetProperties(string path, IReadOnlyDictionary<string, string>? properties)
    {
        EntryInfo info = Stat(path) ?? throw new VolumeException(VolumeError.NotFound, $"{path} does not exist");
        if (info.Path == VolumePath.Root)
        {
            throw new VolumeException(VolumeError.InvalidPath, "the root holds no properties");
        }

        // An implicit directory (known only from entries below it) gets a record of its own here.
        Commit(EntryCodec.ToEntry(info with { Properties = properties is { Count: > 0 } ? properties : null }), Durability.Full);
        return Stat(info.Path)!;
    }

    /// <summary>Deletes a file, link or empty directory (any directory with <paramref name="recursive"/>). Tombstones replicate like any change.</summary>
    public void Delete(string path, bool recursive = false, Durability durability = Durability.Full)
    {
        path = VolumePath.Normalize(path);
        if (path == VolumePath.Root)
        {
            throw new VolumeException(VolumeError.InvalidPath, "the root cannot be deleted");
        }

        EntryInfo info = Stat(path) ?? throw new VolumeException(VolumeError.NotFound, $"{path} does not exist");
        var records = new List<SealedRecord>();
        DeleteTree(info, recursive, records, durability);
        _broadcast.Push(records);
    }

    private void DeleteTree(EntryInfo info, bool recursive, List<SealedRecord> records, Durability durability)
    {
        if (info.IsDirectory)
        {
            IReadOnlyList<EntryInfo> children = _tree.Children(info.Path);
            if (children.Count > 0 && !recursive)
            {
                throw new VolumeException(VolumeError.NotEmpty, $"{info.Path} is not empty");
            }

            foreach (EntryInfo child in children)
            {
                DeleteTree(child, recursive, records, durability);
            }
        }

        if (!info.Version.IsNone || _tree.Find(info.Path) is not null)
        {
            records.Add(_tree.Commit(Tombstone(info), durability: durability));
        }
    }

    /// <summary>
    /// Moves an entry (a directory with everything below it). An existing target is replaced when
    /// <paramref name="replace"/> is set and it is a file, link or empty directory of a compatible kind.
    /// </summary>
    public EntryInfo Rename(string from, string to, bool replace = true, Durability durability = Durability.Full)
    {
        from = VolumePath.Normalize(from);
        to = VolumePath.Normalize(to);
        EntryInfo source = Stat(from) ?? throw new VolumeException(VolumeError.NotFound, $"{from} does not exist");
        if (from == VolumePath.Root || to == VolumePath.Root)
        {
            throw new VolumeException(VolumeError.InvalidPath, "the root cannot be renamed");
        }

        if (from == to)
        {
            return source;
        }

        if (source.IsDirectory && VolumePath.IsWithin(to, from))
        {
            throw new VolumeException(VolumeError.InvalidPath, $"cannot move {from} into itself ({to})");
        }

        if (Stat(to) is { } target)
        {
            if (!replace)
            {
                throw new VolumeException(VolumeError.AlreadyExists, $"{to} already exists");
            }

            if (target.IsDirectory != source.IsDirectory)
            {
                throw new VolumeException(target.IsDirectory ? VolumeError.IsADirectory : VolumeError.NotADirectory,
                    $"cannot replace {(target.IsDirectory ? "directory" : "file")} {to} with {(source.IsDirectory ? "a directory" : "a file")}");
            }

            if (target.IsDirectory && _tree.HasChildren(to))
            {
                throw new VolumeException(VolumeError.NotEmpty, $"{to} is not empty");
            }
        }

        EnsureParents(to, durability);
        var records = new List<SealedRecord>();
        MoveTree(source, to, records, durability);
        _broadcast.Push(records);
        return Stat(to)!;
    }

    private void MoveTree(EntryInfo source, string to, List<SealedRecord> records, Durability durability)
    {
        records.Add(_tree.Commit(EntryCodec.ToEntry(source with { Path = to }), durability: durability));
        if (source.IsDirectory)
        {
            foreach (EntryInfo child in _tree.Children(source.Path))
            {
                MoveTree(child, VolumePath.Combine(to, child.Name), records, durability);
            }
        }

        records.Add(_tree.Commit(Tombstone(source), durability: durability));
    }
}
