using NexNet.Crypto;
using NexNet.Tests.Shared;
using NexNet.UnitTests.Support;

namespace NexNet.UnitTests.Crypto;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class KeyFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public void A_new_key_file_is_mode_0600_and_reads_back()
    {
        string path = _dir.Combine("volume.key");
        byte[] secret = KeyFile.CreateNew(path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(secret, KeyFile.Read(path));
    }

    [Fact]
    public void An_existing_key_file_is_never_overwritten()
    {
        string path = _dir.Combine("volume.key");
        byte[] secret = KeyFile.CreateNew(path);
        KeyFileException e = Assert.Throws<KeyFileException>(() => KeyFile.CreateNew(path));
        Assert.Contains("already exists", e.Message, StringComparison.Ordinal);
        Assert.Equal(secret, KeyFile.Read(path));
    }

    [Fact]
    public void A_missing_key_file_says_so_and_what_to_do()
    {
        KeyFileException e = Assert.Throws<KeyFileException>(() => KeyFile.Read(_dir.Combine("nope.key")));
        Assert.Contains("is missing", e.Message, StringComparison.Ordinal);
        Assert.Contains("nexnet init", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_key_file_is_refused()
    {
        string path = _dir.Combine("short.key");
        File.WriteAllBytes(path, new byte[12]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        KeyFileException e = Assert.Throws<KeyFileException>(() => KeyFile.Read(path));
        Assert.Contains("is 12 bytes, expected 32", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(UnixFileMode.OtherRead)]
    [InlineData(UnixFileMode.GroupRead)]
    public void A_key_file_readable_by_others_is_refused_without_showing_the_key(UnixFileMode extra)
    {
        string path = _dir.Combine("open.key");
        byte[] secret = KeyFile.CreateNew(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | extra);
        KeyFileException e = Assert.Throws<KeyFileException>(() => KeyFile.Read(path));
        Assert.Contains("readable by other users", e.Message, StringComparison.Ordinal);
        Assert.Contains("chmod 600", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Hex.Of(secret), e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(secret), e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
