using NexNet.Crypto;

namespace NexNet.TestHost;

/// <summary>The volume key of a test data dir: created on first use, read after, so parent and child agree.</summary>
internal static class VolumeFixture
{
    public static VolumeKeys Keys(string dir)
    {
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "volume.key");
        byte[] secret = File.Exists(path) ? KeyFile.Read(path) : KeyFile.CreateNew(path);
        return VolumeKeys.Derive(secret);
    }
}
