using NexNet.Crypto;

namespace NexNet.Tests.Shared;

/// <summary>The public signing key of a volume secret: what a storage peer's invite gives it (volume.pub).</summary>
internal static class VolumePublicKeys
{
    public static byte[] Of(byte[] volumeSecret)
    {
        using VolumeKeys keys = VolumeKeys.Derive(volumeSecret);
        using VolumeSigner signer = VolumeSigner.Create(keys);
        return signer.PublicKey;
    }
}
