namespace NexNet.Storage;

/// <summary>
/// A transaction on the metadata database that every call joins until <see cref="Commit"/>; disposing it
/// uncommitted rolls back. Several tables change together (a record, its entry, its chunk references,
/// the sync cursor), so a crash leaves all of them or none.
/// </summary>
public sealed class MetaTransaction : IDisposable
{
    private readonly MetaDatabase? _store;
    private bool _ended;
    private bool _released;

    internal MetaTransaction(MetaDatabase store) => _store = store;

    private MetaTransaction() => _ended = _released = true;

    /// <summary>A scope inside an already open transaction: committing or disposing it does nothing.</summary>
    internal static MetaTransaction Nested { get; } = new();

    /// <summary>Commits. The store stays locked to this thread until the scope is disposed.</summary>
    public void Commit()
    {
        if (!_ended)
        {
            _ended = true;
            _store!.EndTransaction(commit: true);
        }
    }

    /// <summary>Rolls back if not committed, and unlocks the store.</summary>
    public void Dispose()
    {
        try
        {
            if (!_ended)
            {
                _ended = true;
                _store!.EndTransaction(commit: false);
            }
        }
        finally
        {
            if (!_released)
            {
                _released = true;
                _store!.ReleaseTransactionLock();
            }
        }
    }
}
