namespace NexNet.Crypto;

/// <summary>
/// Data failed an authenticity check: a blob whose plaintext does not hash to its chunk id, or a sealed
/// record whose MAC does not match. Callers treat it as "this copy is bad", never as "the data is gone".
/// </summary>
public sealed class IntegrityException : Exception
{
    public IntegrityException(string message) : base(message) { }

    public IntegrityException() : this("integrity check failed") { }

    public IntegrityException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>A key file is missing, damaged, or readable by others. The message says which and what to do; it never holds key bytes.</summary>
public sealed class KeyFileException : Exception
{
    public KeyFileException(string message) : base(message) { }

    public KeyFileException() : this("key file error") { }

    public KeyFileException(string message, Exception innerException) : base(message, innerException) { }
}
