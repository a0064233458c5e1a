using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using NexNet.P2P.Internal;

namespace NexNet.UnitTests.P2P;

/// <summary>The read buffer under a connection's TLS: any sequence of read sizes yields exactly the bytes beneath, in order.</summary>
public class ReadBufferedStreamTests
{
    [Fact]
    public void Any_sequence_of_read_sizes_yields_the_same_bytes_in_order() =>
        Prop.ForAll(
            Gen.Choose(0, 300).ListOf().ToArbitrary(),
            Gen.Choose(1, 9000).ToArbitrary(),
            (sizes, chunk) =>
            {
                byte[] data = RandomNumberGenerator.GetBytes(50_000);
                using var stream = new ReadBufferedStream(new TrickleStream(data, chunk), bufferSize: 4096);
                var got = new List<byte>();
                foreach (int size in sizes.Append(5000).Append(70_000))
                {
                    byte[] buffer = new byte[size];
                    int n = stream.ReadAsync(buffer).AsTask().GetAwaiter().GetResult();
                    got.AddRange(buffer.AsSpan(0, n).ToArray());
                    if (size > 0 && n == 0)
                    {
                        break;
                    }
                }

                while (true)
                {
                    byte[] rest = new byte[777];
                    int n = stream.Read(rest, 0, rest.Length);
                    if (n == 0)
                    {
                        break;
                    }

                    got.AddRange(rest.AsSpan(0, n).ToArray());
                }

                return got.ToArray().AsSpan().SequenceEqual(data);
            }).QuickCheckThrowOnFailure();

    [Fact]
    public async Task Writes_and_flushes_go_straight_to_the_inner_stream()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var inner = new MemoryStream();
        await using var stream = new ReadBufferedStream(inner);
        await stream.WriteAsync(new byte[] { 1, 2, 3 }, ct);
        stream.Write([4]);
        await stream.FlushAsync(ct);
        Assert.Equal([1, 2, 3, 4], inner.ToArray());
    }

    [Fact]
    public async Task A_zero_byte_read_takes_nothing()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var stream = new ReadBufferedStream(new MemoryStream([7, 8, 9]), bufferSize: 4096);
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty, ct));
        byte[] one = new byte[1];
        Assert.Equal(1, await stream.ReadAsync(one, ct));
        Assert.Equal(7, one[0]);
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty, ct)); // buffered data waits for the next real read
        byte[] rest = new byte[10];
        Assert.Equal(2, await stream.ReadAsync(rest, ct));
        Assert.Equal([8, 9], rest[..2]);
        Assert.Equal(0, await stream.ReadAsync(rest, ct));
    }

    /// <summary>A socket-like source: returns at most <c>chunk</c> bytes per read.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
