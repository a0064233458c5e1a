using System.Net.Http.Headers;
using System.Text;

namespace NexNet.IntegrationTests.WebDav;

/// <summary>The WebDAV password a node keeps in its data directory, as clients present it (HTTP Basic).</summary>
internal static class WebDavAuth
{
    public static string PasswordOf(string data) => File.ReadAllText(Path.Combine(data, "webdav.password")).Trim();

    public static AuthenticationHeaderValue HeaderOf(string data) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("nexnet:" + PasswordOf(data))));

    /// <summary>An HttpClient that sends <paramref name="data"/>'s password with every request.</summary>
    public static HttpClient ClientOf(string data, HttpMessageHandler? handler = null)
    {
        HttpClient client = handler is null ? new HttpClient() : new HttpClient(handler);
        client.DefaultRequestHeaders.Authorization = HeaderOf(data);
        return client;
    }
}
