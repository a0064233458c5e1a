using Microsoft.Data.Sqlite;

namespace NexNet.Node.State;

/// <summary>Replicas stored here whose contents have not yet been checked against their ids.</summary>
internal sealed partial class NodeStore
{
    /// <summary>Records <paramref name="ids"/> as unchecked, durably, before their blobs become visible.</summary>
    public void AddUnverified(IEnumerable<ChunkId> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        using MetaTransaction tx = _db.JoinOrBegin();
        {
            SqliteCommand cmd = _db.Command("INSERT INTO unverified (id) VALUES ($id) ON CONFLICT (id) DO NOTHING");
            SqliteParameter id = cmd.Parameters.Add("$id", SqliteType.Blob);
            foreach (ChunkId chunk in ids)
            {
                id.Value = chunk.ToBytes();
                cmd.ExecuteNonQuery();
            }

            tx.Commit();
        }
    }

    /// <summary>The blob is checked (or gone): it leaves the unchecked list.</summary>
    public void RemoveUnverified(ChunkId id)
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("DELETE FROM unverified WHERE id = $id");
            cmd.Parameters.AddWithValue("$id", id.ToBytes());
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>Every unchecked id (read once at start).</summary>
    public IReadOnlyList<ChunkId> Unverified()
    {
        lock (_db.Lock)
        {
            SqliteCommand cmd = _db.Command("SELECT id FROM unverified");
            var ids = new List<ChunkId>();
            using SqliteDataReader reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                ids.Add(ChunkId.FromBytes((byte[])reader[0]));
            }

            return ids;
        }
    }
}
