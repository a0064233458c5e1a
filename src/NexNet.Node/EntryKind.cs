namespace NexNet.Node;

public enum EntryKind
{
    File,
    Directory,
    Symlink,
}
