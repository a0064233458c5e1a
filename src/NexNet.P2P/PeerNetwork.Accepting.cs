using System.Net;
using System.Net.Sockets;
using NexNet.P2P.Internal;

namespace NexNet.P2P;

/// <summary>Accepting: the listener, with a bound on handshakes in progress overall and per address.</summary>
public sealed partial class PeerNetwork
{
    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                await _handshakeSlots.WaitAsync(_stopping.Token);
                socket = await _listener!.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                _handshakeSlots.Release();
                continue; // a connection that died in the backlog
            }
            catch (Exception e)
            {
                _handshakeSlots.Release();
                Log.Unexpected(_logger, "accepting a connection", e);
                continue;
            }

            if (IsOffline)
            {
                socket.Dispose();
                _handshakeSlots.Release();
                continue;
            }

            IPAddress? remote = (socket.RemoteEndPoint as IPEndPoint)?.Address;
            if (remote is not null && !TryTakeAddressSlot(remote))
            {
                Log.RefusedIncoming(_logger, socket.RemoteEndPoint?.ToString() ?? "?", $"{_options.MaxHandshakesPerAddress} handshakes from this address are already in progress");
                socket.Dispose();
                _handshakeSlots.Release();
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await RespondAsync(socket);
                }
                finally
                {
                    if (remote is not null)
                    {
                        ReleaseAddressSlot(remote);
                    }

                    _handshakeSlots.Release();
                }
            });
        }
    }

    private bool TryTakeAddressSlot(IPAddress address)
    {
        lock (_handshakesByAddress)
        {
            int now = _handshakesByAddress.GetValueOrDefault(address);
            if (now >= _options.MaxHandshakesPerAddress)
            {
                return false;
            }

            _handshakesByAddress[address] = now + 1;
            return true;
        }
    }

    private void ReleaseAddressSlot(IPAddress address)
    {
        lock (_handshakesByAddress)
        {
            int left = _handshakesByAddress.GetValueOrDefault(address) - 1;
            if (left <= 0)
            {
                _handshakesByAddress.Remove(address);
            }
            else
            {
                _handshakesByAddress[address] = left;
            }
        }
    }

    private async Task RespondAsync(Socket socket)
    {
        string endPoint = socket.RemoteEndPoint?.ToString() ?? "?";
        socket.NoDelay = true;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(_options.HandshakeTimeout);
        try
        {
            // A real peer's TLS ClientHello comes at once; a socket that stays silent is not holding a slot for long.
            using (var firstByte = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token))
            {
                firstByte.CancelAfter(_options.FirstByteTimeout);
                try
                {
                    if (await socket.ReceiveAsync(new byte[1], SocketFlags.Peek, firstByte.Token) == 0)
                    {
                        socket.Dispose();
                        return; // closed before it said anything: nothing worth a log line
                    }
                }
                catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
                {
                    socket.Dispose();
                    throw new HandshakeException(HandshakeFailure.Timeout, $"nothing received within {_options.FirstByteTimeout.TotalSeconds:F0} s of connecting");
                }
                catch (SocketException e)
                {
                    socket.Dispose();
                    throw new HandshakeException(HandshakeFailure.Transport, $"the connection failed before its first byte: {e.Message}", e);
                }
            }

            Handshake.Result result = await Handshake.RespondAsync(new NetworkStream(socket, ownsSocket: true), _identity, _proofKey, deadline.Token, _options.AdvertisedProtocolVersion);
            Admit(result, endPoint, isInitiator: false, listenAddress: "");
        }
        catch (HandshakeException e) when (!_stopping.IsCancellationRequested)
        {
            Log.RefusedIncoming(_logger, endPoint, e.Message);
        }
        catch (Exception e) when (_stopping.IsCancellationRequested && e is HandshakeException or OperationCanceledException)
        {
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            Log.Unexpected(_logger, $"admitting the connection from {endPoint}", e);
        }
    }
}
