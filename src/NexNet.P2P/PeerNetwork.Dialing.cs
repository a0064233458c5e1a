using System.Net.Sockets;
using NexNet.P2P.Internal;

namespace NexNet.P2P;

/// <summary>Dialing: one dialer per known address, redialing with exponential backoff and jitter, and forgetting gossiped addresses that keep failing.</summary>
public sealed partial class PeerNetwork
{
    /// <summary>Keeps a connection to whoever listens at <paramref name="address"/>: dials now, and again with backoff whenever it drops.</summary>
    public void AddAddress(string address, bool isBootstrap = false) => AddDialer(address, isBootstrap, fromGossip: false);

    private void AddDialer(string address, bool isBootstrap, bool fromGossip)
    {
        if (string.IsNullOrEmpty(address) || _stopping.IsCancellationRequested || (_idByAddress.TryGetValue(address, out NodeId id) && id == Id))
        {
            return;
        }

        var dialer = new Dialer(address, isBootstrap) { FromGossip = fromGossip };
        if (_dialers.TryAdd(address, dialer))
        {
            dialer.Loop = Task.Run(() => DialLoopAsync(dialer));
        }
    }

    /// <summary>One attempt: TCP connect, TLS, handshake. Returns the connection that survives (an existing one if this one loses to it).</summary>
    public async Task<PeerConnection> ConnectAsync(string address, CancellationToken cancellationToken = default)
    {
        (string host, int port) = ParseAddress(address);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        deadline.CancelAfter(_options.HandshakeTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, deadline.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            throw new HandshakeException(e is SocketException ? HandshakeFailure.Transport : HandshakeFailure.Timeout, $"cannot connect to {address}: {e.Message}", e);
        }

        string endPoint = socket.RemoteEndPoint?.ToString() ?? address;
        Handshake.Result result = await Handshake.InitiateAsync(new NetworkStream(socket, ownsSocket: true), _identity, _proofKey, deadline.Token, _options.AdvertisedProtocolVersion);
        _idByAddress[address] = result.RemoteId;
        return Admit(result, endPoint, isInitiator: true, listenAddress: address);
    }

    private static (string Host, int Port) ParseAddress(string address)
    {
        int colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out int port) || port is <= 0 or > 65535)
        {
            throw new ArgumentException($"'{address}' is not host:port");
        }

        return (address[..colon].Trim('[', ']'), port);
    }

    private async Task DialLoopAsync(Dialer dialer)
    {
        TimeSpan delay = _options.ReconnectMinDelay;
        CancellationToken stopping = _stopping.Token;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await _online.Task.WaitAsync(stopping);
                if (_idByAddress.TryGetValue(dialer.Address, out NodeId known))
                {
                    if (known == Id)
                    {
                        break;
                    }

                    if (Find(known) is { } live)
                    {
                        dialer.Connected = true;
                        await live.Completion.WaitAsync(stopping);
                        dialer.Connected = false;
                        delay = _options.ReconnectMinDelay;
                        continue;
                    }
                }

                try
                {
                    PeerConnection connection = await ConnectAsync(dialer.Address, stopping);
                    dialer.Failures = 0;
                    dialer.Connected = true;
                    delay = _options.ReconnectMinDelay;
                    await connection.Completion.WaitAsync(stopping);
                    dialer.Connected = false;
                    continue;
                }
                catch (HandshakeException e) when (e.Failure == HandshakeFailure.Self)
                {
                    _idByAddress[dialer.Address] = Id;
                    break;
                }
                catch (HandshakeException e) when (!stopping.IsCancellationRequested)
                {
                    dialer.Failures++;
                    if (dialer.Failures == 1 || e.Failure is HandshakeFailure.Authentication or HandshakeFailure.Version)
                    {
                        Log.DialFailed(_logger, dialer.Address, e.Message);
                    }
                    else
                    {
                        Log.DialRetry(_logger, dialer.Address, e.Message, (long)delay.TotalMilliseconds);
                    }

                    if (e.Failure is HandshakeFailure.Authentication or HandshakeFailure.Version)
                    {
                        delay = _options.ReconnectMaxDelay; // it will not change by itself: try rarely
                    }
                }
                catch (Exception e) when (!stopping.IsCancellationRequested && e is not OperationCanceledException)
                {
                    // A bug somewhere below must not leave this address undialed for good: say so, and retry.
                    dialer.Failures++;
                    Log.Unexpected(_logger, $"dialing {dialer.Address}", e);
                }

                if (!dialer.IsBootstrap && dialer.Failures >= ForgetAfterFailures)
                {
                    break;
                }

                double jitter = 0.5 + Random.Shared.NextDouble(); // 0.5x .. 1.5x, so retries of many nodes spread out
                await Task.Delay(delay * jitter, stopping);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            _dialers.TryRemove(new KeyValuePair<string, Dialer>(dialer.Address, dialer));
        }
    }

    private sealed class Dialer(string address, bool isBootstrap)
    {
        public string Address { get; } = address;

        public bool IsBootstrap { get; } = isBootstrap;

        public int Failures { get; set; }

        /// <summary>Learned from a peer's gossip (what <see cref="PeerOptions.MaxGossipDialers"/> bounds while it is still trying).</summary>
        public bool FromGossip { get; init; }

        private volatile bool _connected;

        /// <summary>Its address has a live connection: it is waiting for it to drop, not dialing.</summary>
        public bool Connected
        {
            get => _connected;
            set => _connected = value;
        }

        public Task Loop { get; set; } = Task.CompletedTask;
    }
}
