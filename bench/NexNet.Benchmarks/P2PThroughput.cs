using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using NexNet.P2P;

namespace NexNet.Benchmarks;

/// <summary>
/// Loopback network measurements, each in one process with both ends on its two cores:
/// <c>p2p bare BYTES</c>: a plain TLS 1.3 SslStream copy loop (1 MiB writes), the reference;
/// <c>p2p stream BYTES</c>: the same bytes as one request's streamed body between two PeerNetworks;
/// <c>p2p latency COUNT</c>: sequential 16-byte echo requests, printing p50 and p99 in microseconds.
/// Throughputs print MiB/s. bench/p2p.sh interleaves them.
/// </summary>
public static class P2PThroughput
{
    private const int WriteSize = 1024 * 1024;
    private const uint Sink = 100;
    private const uint Echo = 101;
    private const long WarmUpBytes = 256L * 1024 * 1024;

    public static async Task<int> RunAsync(string[] args)
    {
        int receivers = args.Length == 3 && args[0] == "bare" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
        if (args.Length is < 2 or > 3 || !long.TryParse(args[1], CultureInfo.InvariantCulture, out long amount))
        {
            Console.Error.WriteLine("usage: p2p bare BYTES [RECEIVERS] | p2p stream BYTES | p2p latency COUNT");
            return 2;
        }

        switch (args[0])
        {
            // Each throughput is measured after untimed 256 MiB runs of the same kind in the same process (the
            // bare copy: as many as the node measurements get, see JitWarmUp), so both sides are timed with
            // their code fully compiled (tiered JIT), not while it compiles.
            case "bare":
                Func<Task<double>> jitMilliseconds = () => Task.FromResult(JitWarmUp.OwnMilliseconds);
                await JitWarmUp.RunAsync("bare", _ => BareAsync(WarmUpBytes, receivers), jitMilliseconds);
                double cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
                double bare = await JitWarmUp.TimedAsync("bare", () => BareAsync(amount, receivers), jitMilliseconds);
                cpu = (Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpu) / (amount / (double)(1L << 30));

                // MiB/s each receiver got, and the CPU time of the whole copy (senders and receivers) per GiB sent to each.
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bare:F0} {cpu:F2}"));
                return 0;
            case "stream":
                await StreamAsync(WarmUpBytes);
                Console.WriteLine((await StreamAsync(amount)).ToString("F0", CultureInfo.InvariantCulture));
                return 0;
            case "latency":
                (double p50, double p99) = await LatencyAsync((int)amount);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p50:F0} {p99:F0}"));
                return 0;
            default:
                Console.Error.WriteLine($"unknown p2p measurement {args[0]}");
                return 2;
        }
    }

    /// <summary>
    /// A bare TLS 1.3 copy loop of <paramref name="bytes"/> to each of <paramref name="receivers"/> receivers at
    /// once (one connection and one sending task each); MiB/s of the bytes each receiver got.
    /// </summary>
    internal static async Task<double> BareAsync(long bytes, int receivers = 1)
    {
        using NodeIdentity server = NodeIdentity.CreateEphemeral();
        using NodeIdentity client = NodeIdentity.CreateEphemeral();
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        Task<long>[] drains = [.. Enumerable.Range(0, receivers).Select(_ => Task.Run(async () =>
        {
            using Socket socket = await listener.AcceptAsync();
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
            await tls.AuthenticateAsServerAsync(Handshake.ServerOptions(server));
            return await DrainAsync(tls);
        }))];

        var senders = new List<(Socket Socket, SslStream Tls)>();
        for (int i = 0; i < receivers; i++)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync((IPEndPoint)listener.LocalEndPoint!);
            var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
            await tls.AuthenticateAsClientAsync(Handshake.ClientOptions(client));
            senders.Add((socket, tls));
        }

        byte[] buffer = RandomNumberGenerator.GetBytes(WriteSize);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(senders.Select(s => Task.Run(async () =>
        {
            for (long sent = 0; sent < bytes; sent += WriteSize)
            {
                await s.Tls.WriteAsync(buffer.AsMemory(0, (int)Math.Min(WriteSize, bytes - sent)));
            }

            await s.Tls.ShutdownAsync();
            s.Socket.Shutdown(SocketShutdown.Send);
        })));
        long[] received = await Task.WhenAll(drains);
        double seconds = clock.Elapsed.TotalSeconds;
        foreach ((Socket _, SslStream tls) in senders)
        {
            await tls.DisposeAsync();
        }

        return received.Any(r => r != bytes) ? throw new InvalidOperationException($"received {string.Join(", ", received)} of {bytes}") : bytes / 1048576.0 / seconds;
    }

    private static async Task<long> DrainAsync(Stream stream)
    {
        byte[] buffer = new byte[WriteSize];
        long total = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            total += n;
        }

        return total;
    }

    private static async Task<(PeerNetwork Server, PeerNetwork Client, NodeId ServerId)> PairAsync()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        var server = new PeerNetwork(NodeIdentity.CreateEphemeral(), secret);
        server.Handle(Sink, async (request, ct) => new PeerReply(BitConverter.GetBytes(await DrainAsync(request.BodyStream!))));
        server.Handle(Echo, (request, _) => Task.FromResult(new PeerReply(request.Body)));
        server.Start(new IPEndPoint(IPAddress.Loopback, 0));
        var client = new PeerNetwork(NodeIdentity.CreateEphemeral(), secret);
        client.Start(null);
        await client.ConnectAsync(server.AdvertisedAddress);
        return (server, client, server.Id);
    }

    private static async Task<double> StreamAsync(long bytes)
    {
        (PeerNetwork server, PeerNetwork client, NodeId serverId) = await PairAsync();
        await using (server)
        await using (client)
        {
            byte[] buffer = RandomNumberGenerator.GetBytes(WriteSize);
            var clock = Stopwatch.StartNew();
            await using PeerResponse response = await client.RequestAsync(serverId, Sink, ReadOnlyMemory<byte>.Empty, async (stream, ct) =>
            {
                for (long sent = 0; sent < bytes; sent += WriteSize)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, (int)Math.Min(WriteSize, bytes - sent)), ct);
                }
            }, timeout: TimeSpan.FromMinutes(10));
            double seconds = clock.Elapsed.TotalSeconds;
            long received = BitConverter.ToInt64(response.Body.Span);
            return received != bytes ? throw new InvalidOperationException($"received {received} of {bytes}") : bytes / 1048576.0 / seconds;
        }
    }

    private static async Task<(double P50, double P99)> LatencyAsync(int count)
    {
        (PeerNetwork server, PeerNetwork client, NodeId serverId) = await PairAsync();
        await using (server)
        await using (client)
        {
            byte[] body = new byte[16];
            for (int i = 0; i < 200; i++)
            {
                await using PeerResponse warm = await client.RequestAsync(serverId, Echo, body);
            }

            double[] micros = new double[count];
            for (int i = 0; i < count; i++)
            {
                long start = Stopwatch.GetTimestamp();
                await using PeerResponse r = await client.RequestAsync(serverId, Echo, body);
                micros[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            Array.Sort(micros);
            return (micros[count / 2], micros[(int)(count * 0.99)]);
        }
    }
}
