using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using NexNet.Crypto;
using NexNet.Storage;

namespace NexNet.WebDav;

/// <summary>
/// WebDAV (RFC 4918) class 1 and 2 over the <see cref="Volume"/>: every authenticated request becomes a
/// volume operation. Bodies stream both ways through fixed buffers. A request that names another host is
/// refused before anything else (<see cref="HostCheck"/>), then one without the password (<see cref="BasicAuthentication"/>).
/// </summary>
internal sealed partial class WebDavHandler(Volume volume, HostCheck hosts, BasicAuthentication authentication, LockManager locks, DeadProperties properties, ILogger log)
{
    private const int BufferSize = 1 << 20;

    /// <summary>What a file of any type not known to be passive is served as.</summary>
    private const string Download = "application/octet-stream";
    private static readonly XNamespace s_dav = "DAV:";

    public async Task HandleAsync(HttpContext context)
    {
        HttpResponse response = context.Response;

        // Whatever a browser is shown from here runs nothing with this server's origin: no scripts, forms or
        // same-origin access (sandbox), and no second guess at a file's type (nosniff).
        response.Headers.ContentSecurityPolicy = "sandbox";
        response.Headers.XContentTypeOptions = "nosniff";
        if (!hosts.Allows(context))
        {
            Log.HostRefused(log, context.Request.Method, context.Request.Host.Value ?? "", context.Connection.RemoteIpAddress?.ToString() ?? "?");
            response.StatusCode = StatusCodes.Status421MisdirectedRequest;
            return;
        }

        if (!authentication.Allows(context.Request))
        {
            response.Headers.WWWAuthenticate = BasicAuthentication.Challenge;
            response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        response.Headers["DAV"] = "1, 2";
        response.Headers["MS-Author-Via"] = "DAV";
        string path = PathOf(context.Request.Path.Value ?? "");
        if (RefusedInPast(context, path))
        {
            response.StatusCode = StatusCodes.Status403Forbidden; // the past is read-only
            return;
        }

        try
        {
            Task work = context.Request.Method switch
            {
                "OPTIONS" => OptionsAsync(context),
                "GET" => GetAsync(context, path, body: true),
                "HEAD" => GetAsync(context, path, body: false),
                "PUT" => PutAsync(context, path),
                "DELETE" => DeleteAsync(context, path),
                "MKCOL" => MakeCollectionAsync(context, path),
                "COPY" => CopyOrMoveAsync(context, path, move: false),
                "MOVE" => CopyOrMoveAsync(context, path, move: true),
                "PROPFIND" => PropFindAsync(context, path),
                "PROPPATCH" => PropPatchAsync(context, path),
                "LOCK" => LockAsync(context, path),
                "UNLOCK" => UnlockAsync(context, path),
                _ => Status(context, StatusCodes.Status405MethodNotAllowed),
            };
            await work;
        }
        catch (VolumeException e) when (!response.HasStarted)
        {
            response.StatusCode = e.Error switch
            {
                VolumeError.NotFound => StatusCodes.Status404NotFound,
                VolumeError.AlreadyExists => StatusCodes.Status405MethodNotAllowed,
                VolumeError.NotADirectory or VolumeError.NotEmpty => StatusCodes.Status409Conflict,
                VolumeError.Unavailable => StatusCodes.Status503ServiceUnavailable,
                VolumeError.NotAMember => StatusCodes.Status403Forbidden,
                _ => StatusCodes.Status400BadRequest,
            };
        }
        catch (IntegrityException e) when (!response.HasStarted)
        {
            Log.RequestFailed(log, context.Request.Method, path, e.Message);
            response.StatusCode = StatusCodes.Status500InternalServerError;
        }
        catch (IOException e) when (!response.HasStarted && DiskFull.Is(e))
        {
            Log.RequestFailed(log, context.Request.Method, path, "the disk is full");
            response.StatusCode = StatusCodes.Status507InsufficientStorage;
        }
        catch (System.Xml.XmlException) when (!response.HasStarted)
        {
            response.StatusCode = StatusCodes.Status400BadRequest;
        }
    }

    // ------------------------------------------------------------------ methods

    private static Task OptionsAsync(HttpContext context)
    {
        context.Response.Headers.Allow = "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK";
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    private async Task GetAsync(HttpContext context, string path, bool body)
    {
        HttpResponse response = context.Response;
        EntryInfo? entry = Stat(path);
        if (entry is null)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        response.Headers.ETag = ETagOf(entry);
        response.Headers.LastModified = entry.ModifiedAt.ToString("R", CultureInfo.InvariantCulture);
        if (entry.IsDirectory)
        {
            response.ContentType = "text/html; charset=utf-8";
            if (body)
            {
                var html = new StringBuilder("<!DOCTYPE html><html><body><ul>");
                foreach (EntryInfo child in List(path))
                {
                    html.Append(CultureInfo.InvariantCulture, $"<li><a href=\"{HrefOf(child.Path, child.IsDirectory)}\">{System.Net.WebUtility.HtmlEncode(child.Name)}</a></li>");
                }

                await response.WriteAsync(html.Append("</ul></body></html>").ToString(), context.RequestAborted);
            }

            return;
        }

        response.ContentType = ContentTypeOf(path);
        if (response.ContentType == Download)
        {
            response.Headers.ContentDisposition = "attachment";
        }

        response.Headers.AcceptRanges = "bytes";
        (long offset, long length) = (0, entry.Size);
        if (context.Request.Headers.Range.ToString() is { Length: > 0 } range)
        {
            if (ParseRange(range, entry.Size) is not { } parsed)
            {
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = $"bytes */{entry.Size}";
                return;
            }

            (offset, length) = parsed;
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {offset}-{offset + length - 1}/{entry.Size}");
        }

        response.ContentLength = length;
        if (!body || length == 0)
        {
            return;
        }

        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long end = offset + length;
            for (long at = offset; at < end;)
            {
                int read = await volume.ReadAsync(entry, at, buffer.AsMemory(0, (int)Math.Min(BufferSize, end - at)), context.RequestAborted);
                if (read == 0)
                {
                    break;
                }

                await response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                at += read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>One byte range (<c>bytes=a-b</c>, <c>a-</c> or <c>-n</c>); null when unsatisfiable or several.</summary>
    private static (long Offset, long Length)? ParseRange(string header, long size)
    {
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || header.Contains(',', StringComparison.Ordinal))
        {
            return null;
        }

        string[] parts = header[6..].Trim().Split('-');
        if (parts.Length != 2)
        {
            return null;
        }

        bool hasStart = long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long start);
        bool hasEnd = long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long last);
        if (!hasStart && hasEnd)
        {
            long suffix = Math.Min(last, size);
            return suffix <= 0 ? null : (size - suffix, suffix);
        }

        if (!hasStart || start >= size)
        {
            return null;
        }

        long stop = hasEnd ? Math.Min(last, size - 1) : size - 1;
        return stop < start ? null : (start, stop - start + 1);
    }

    private async Task PutAsync(HttpContext context, string path)
    {
        EntryInfo? existing = Stat(path);
        if (path == VolumePath.Root || existing is { IsDirectory: true })
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }

        if (Stat(VolumePath.Parent(path)) is not { IsDirectory: true })
        {
            context.Response.StatusCode = StatusCodes.Status409Conflict;
            return;
        }

        if (CheckWrite(context, path, children: false) is { } refused)
        {
            context.Response.StatusCode = refused;
            return;
        }

        EntryInfo stored = await volume.WriteFileAsync(path, context.Request.Body, existing?.Mode ?? EntryInfo.DefaultFileMode, null, context.RequestAborted);
        context.Response.Headers.ETag = ETagOf(stored);
        context.Response.StatusCode = existing is null ? StatusCodes.Status201Created : StatusCodes.Status204NoContent;
    }

    private Task DeleteAsync(HttpContext context, string path)
    {
        if (Stat(path) is null)
        {
            return Status(context, StatusCodes.Status404NotFound);
        }

        if (path == VolumePath.Root)
        {
            return Status(context, StatusCodes.Status403Forbidden);
        }

        if (CheckWrite(context, path, children: true) is { } refused)
        {
            return Status(context, refused);
        }

        Remove(path);
        return Status(context, StatusCodes.Status204NoContent);
    }

    private void Remove(string path)
    {
        volume.Delete(path, recursive: true);
        locks.RemoveAtOrBelow(path);
    }

    private Task MakeCollectionAsync(HttpContext context, string path)
    {
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            return Status(context, StatusCodes.Status415UnsupportedMediaType);
        }

        if (Stat(path) is not null)
        {
            return Status(context, StatusCodes.Status405MethodNotAllowed);
        }

        if (Stat(VolumePath.Parent(path)) is not { IsDirectory: true })
        {
            return Status(context, StatusCodes.Status409Conflict);
        }

        if (CheckWrite(context, path, children: false) is { } refused)
        {
            return Status(context, refused);
        }

        volume.CreateDirectory(path);
        return Status(context, StatusCodes.Status201Created);
    }

    private async Task CopyOrMoveAsync(HttpContext context, string path, bool move)
    {
        HttpResponse response = context.Response;
        string destinationHeader = context.Request.Headers["Destination"].ToString();
        if (destinationHeader.Length == 0)
        {
            response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        string? destination = PathOfUri(context, destinationHeader);
        if (destination is null)
        {
            response.StatusCode = StatusCodes.Status502BadGateway; // another server
            return;
        }

        EntryInfo? source = Stat(path);
        if (source is null)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        string depth = context.Request.Headers["Depth"].ToString();
        if (destination == path || (source.IsDirectory && VolumePath.IsWithin(destination, path)) || destination == VolumePath.Root
            || (move && depth.Length > 0 && !depth.Equals("infinity", StringComparison.OrdinalIgnoreCase)))
        {
            response.StatusCode = destination == path ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest;
            return;
        }

        if (Stat(VolumePath.Parent(destination)) is not { IsDirectory: true })
        {
            response.StatusCode = StatusCodes.Status409Conflict;
            return;
        }

        bool overwrite = !context.Request.Headers["Overwrite"].ToString().Equals("F", StringComparison.OrdinalIgnoreCase);
        EntryInfo? existing = Stat(destination);
        if (existing is not null && !overwrite)
        {
            response.StatusCode = StatusCodes.Status412PreconditionFailed;
            return;
        }

        // A move changes the source (its locks must be submitted); a copy only reads it (its If header still counts).
        int? refused = CheckWrite(context, path, children: true, needLocks: move) ?? CheckWrite(context, destination, children: true, evaluateIf: false);
        if (refused is { } status)
        {
            response.StatusCode = status;
            return;
        }

        if (existing is not null)
        {
            Remove(destination);
        }

        if (move)
        {
            volume.Rename(path, destination, replace: false);
            locks.RemoveAtOrBelow(path);
        }
        else
        {
            await CopyTreeAsync(source, destination, !depth.Equals("0", StringComparison.Ordinal), context.RequestAborted);
        }

        response.StatusCode = existing is null ? StatusCodes.Status201Created : StatusCodes.Status204NoContent;
    }

    private async Task CopyTreeAsync(EntryInfo source, string destination, bool deep, CancellationToken cancellationToken)
    {
        if (source.IsDirectory)
        {
            volume.CreateDirectory(destination, source.Mode);
            properties.CopyTo(source, destination);
            if (deep)
            {
                foreach (EntryInfo child in List(source.Path))
                {
                    await CopyTreeAsync(child, VolumePath.Combine(destination, child.Name), deep, cancellationToken);
                }
            }
        }
        else if (source.Kind == EntryKind.Symlink)
        {
            volume.CreateSymlink(destination, source.Target ?? "");
        }
        else
        {
            await using Stream content = volume.OpenRead(source);
            await volume.WriteFileAsync(destination, content, source.Mode, source.ModifiedAt, cancellationToken);
            properties.CopyTo(source, destination);
        }
    }

    private static async Task WriteXmlAsync(HttpContext context, int status, XElement root)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/xml; charset=utf-8";
        byte[] bytes = Encoding.UTF8.GetBytes("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + root.ToString(SaveOptions.DisableFormatting));
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    /// <summary>The request body as XML; null when it is empty.</summary>
    private static async Task<XDocument?> ReadXmlAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        string text = await reader.ReadToEndAsync(context.RequestAborted);
        return string.IsNullOrWhiteSpace(text) ? null : XDocument.Parse(text);
    }
}
