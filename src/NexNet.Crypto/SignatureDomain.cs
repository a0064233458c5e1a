namespace NexNet.Crypto;

/// <summary>What a volume signature is over; each has its own label in the signed hash, so a signature made for one can never pass for another.</summary>
public enum SignatureDomain
{
    /// <summary>An entry record: key, clock, origin and sealed body.</summary>
    Record,

    /// <summary>A collect notice: chunk ids a member deleted as garbage, with its time and nonce.</summary>
    Collect,

    /// <summary>A repair notice: the exact blobs a storage peer may take in place of the copies it holds.</summary>
    Replace,
}
