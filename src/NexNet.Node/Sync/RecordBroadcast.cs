using Google.Protobuf;

namespace NexNet.Node.Sync;

/// <summary>
/// Sends records that just changed here to every connected peer (one-way; anti-entropy in
/// <see cref="TreeSync"/> covers anyone missed). Its own piece so the tree, the volume and conflict
/// copies can push without holding the sync that reads from the tree.
/// </summary>
internal sealed class RecordBroadcast(PeerNetwork network)
{
    /// <summary>Bytes of records one push carries (one larger record goes alone).</summary>
    private const int PushBatchBytes = 256 * 1024;

    public void Push(IReadOnlyCollection<SealedRecord> records)
    {
        if (records.Count == 0)
        {
            return;
        }

        // In batches of a bounded size: a message is at most one frame, and one record always fits in one.
        var batch = new RecordBatch();
        int bytes = 0;
        foreach (SealedRecord record in records)
        {
            int size = record.CalculateSize();
            if (batch.Records.Count > 0 && bytes + size > PushBatchBytes)
            {
                network.Broadcast(NodeMessageType.RecordPush, batch.ToByteArray());
                batch = new RecordBatch();
                bytes = 0;
            }

            batch.Records.Add(record);
            bytes += size;
        }

        network.Broadcast(NodeMessageType.RecordPush, batch.ToByteArray());
    }
}
