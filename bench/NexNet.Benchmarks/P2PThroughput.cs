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
        if (args.Length != 2 || !long.TryParse(args[1], CultureInfo.InvariantCulture, out long amount))
        {
            Console.Error.WriteLine("usage: p2p bare|stream BYTES | p2p latency COUNT");
            return 2;
        }

        switch (args[0])
        {
            // Each throughput is measured after an untimed 256 MiB run of the same kind in the same process,
            // so both sides are timed with their code fully compiled (tiered JIT), not while it compiles.
            case "bare":
                await BareAsync(WarmUpBytes);
                Console.WriteLine((await BareAsync(amount)).ToString("F0", CultureInfo.InvariantCulture));
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

    private static async Task<double> BareAsync(long bytes)
    {
        using NodeIdentity server = NodeIdentity.CreateEphemeral();
        using NodeIdentity client = NodeIdentity.CreateEphemeral();
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        Task<long> receiver = Task.Run(async () =>
        {
            using Socket socket = await listener.AcceptAsync();
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
            await tls.AuthenticateAsServerAsync(Handshake.ServerOptions(server));
            return await DrainAsync(tls);
        });

        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync((IPEndPoint)listener.LocalEndPoint!);
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(Handshake.ClientOptions(client));
        byte[] buffer = RandomNumberGenerator.GetBytes(WriteSize);
        var clock = Stopwatch.StartNew();
        for (long sent = 0; sent < bytes; sent += WriteSize)
        {
            await tls.WriteAsync(buffer.AsMemory(0, (int)Math.Min(WriteSize, bytes - sent)));
        }

        await tls.ShutdownAsync();
        socket.Shutdown(SocketShutdown.Send);
        long received = await receiver;
        double seconds = clock.Elapsed.TotalSeconds;
        return received != bytes ? throw new InvalidOperationException($"received {received} of {bytes}") : bytes / 1048576.0 / seconds;
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
