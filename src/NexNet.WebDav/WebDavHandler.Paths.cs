using System.Globalization;
using System.Text;

namespace NexNet.WebDav;

/// <summary>Paths and names: request paths and Destination URIs to volume paths, hrefs, ETags and content types.</summary>
internal sealed partial class WebDavHandler
{
    /// <summary>The volume path of a request path.</summary>
    private static string PathOf(string requestPath)
    {
        string rest = requestPath.TrimEnd('/');
        return rest.Length == 0 ? VolumePath.Root : VolumePath.Normalize(rest);
    }

    /// <summary>The volume path a Destination or If header's URI names (absolute or absolute-path), or null when it is not this server's.</summary>
    private static string? PathOfUri(HttpContext context, string uri)
    {
        if (Uri.TryCreate(uri, UriKind.Absolute, out Uri? absolute))
        {
            if (!string.Equals(absolute.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            return PathOf(Uri.UnescapeDataString(absolute.AbsolutePath));
        }

        return uri.StartsWith('/') ? PathOf(Uri.UnescapeDataString(uri)) : null;
    }

    private static string HrefOf(string path, bool collection)
    {
        var href = new StringBuilder();
        foreach (string segment in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            href.Append('/').Append(Uri.EscapeDataString(segment));
        }

        if (collection)
        {
            href.Append('/');
        }

        return href.ToString();
    }

    private static string ETagOf(EntryInfo entry) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{entry.Version.Clock:x}-{entry.Size:x}\"");

    /// <summary>
    /// The type a file is served as. Only passive types are named here: HTML, XHTML, SVG, XML, JavaScript and
    /// every other type a browser would run or render as a page are <see cref="Download"/>, sent with
    /// <c>Content-Disposition: attachment</c>, so a file anyone put in the volume never opens as a page of this server.
    /// </summary>
    private static string ContentTypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".txt" => "text/plain",
        ".json" => "application/json",
        ".pdf" => "application/pdf",
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".gif" => "image/gif",
        ".zip" => "application/zip",
        _ => Download,
    };

    private static Task Status(HttpContext context, int status)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }
}
