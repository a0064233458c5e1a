namespace NexNet.Storage;

/// <summary>
/// A transaction on the metadata store that every call joins until <see cref="Commit"/>; disposing it
/// uncommitted rolls back. Several tables change together (a record, its entry, its chunk references,
/// the sync cursor), so a crash leaves all of them or none.
/// </summary>
public sealed class MetaTransaction : IDisposable
{
    private readonly MetaStore? _store;
    private bool _done;

    internal MetaTransaction(MetaStore store) => _store = store;

    private MetaTransaction() => _done = true;

    /// <summary>A scope inside an already open transaction: committing or disposing it does nothing.</summary>
    internal static MetaTransaction Nested { get; } = new();

    public void Commit()
    {
        if (!_done)
        {
            _done = true;
            _store!.EndTransaction(commit: true);
        }
    }

    public void Dispose()
    {
        if (!_done)
        {
            _done = true;
            _store!.EndTransaction(commit: false);
        }
    }
}
