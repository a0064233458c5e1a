using System.Net;
using NexNet.IntegrationTests.Cli;

namespace NexNet.IntegrationTests.WebDav;

/// <summary>The past over WebDAV, against a real node: /.snapshots browsable and readable, read-only, and an old file copied back with COPY.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class WebDavHistoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_snapshot_is_browsable_and_readable_read_only_and_an_old_file_is_copied_back()
    {
        using var temp = new TempDirectory();
        string data = temp.Combine("data");
        await using NexnetNodeProcess node = await NexnetNodeProcess.StartAsync(data, "--webdav", "127.0.0.1:0");
        using HttpClient http = WebDavAuth.ClientOf(data);
        var root = new Uri(node.WebDavUrl!);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(http, "MKCOL", new Uri(root, "docs/"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await http.PutAsync(new Uri(root, "docs/report.txt"), new StringContent("draft one"), Ct)).StatusCode);
        Assert.Equal(0, (await Nexnet.RunAsync("snapshot", "create", "monday", "--data", data)).Exit);
        Assert.True((await http.PutAsync(new Uri(root, "docs/report.txt"), new StringContent("ruined"), Ct)).IsSuccessStatusCode);

        string listing = await PropFindAsync(http, new Uri(root, ".snapshots/"), "1");
        Assert.Contains("/.snapshots/monday/", listing, StringComparison.Ordinal);
        Assert.DoesNotContain(".snapshots", await PropFindAsync(http, root, "1"), StringComparison.Ordinal); // not listed in the root
        Assert.Contains("/.snapshots/monday/docs/report.txt", await PropFindAsync(http, new Uri(root, ".snapshots/monday/docs/"), "1"), StringComparison.Ordinal);
        Assert.Equal("draft one", await http.GetStringAsync(new Uri(root, ".snapshots/monday/docs/report.txt"), Ct));

        Assert.Equal(HttpStatusCode.Forbidden, (await http.PutAsync(new Uri(root, ".snapshots/monday/docs/report.txt"), new StringContent("x"), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.DeleteAsync(new Uri(root, ".snapshots/monday/docs/report.txt"), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, "MKCOL", new Uri(root, ".snapshots/monday/new/"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, "MOVE", new Uri(root, ".snapshots/monday/docs/report.txt"), new Uri(root, "moved.txt"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, "COPY", new Uri(root, "docs/report.txt"), new Uri(root, ".snapshots/monday/x.txt"))).StatusCode);
        Assert.Equal("draft one", await http.GetStringAsync(new Uri(root, ".snapshots/monday/docs/report.txt"), Ct));

        Assert.Equal(HttpStatusCode.Created, (await SendAsync(http, "COPY", new Uri(root, ".snapshots/monday/docs/report.txt"), new Uri(root, "docs/report-monday.txt"))).StatusCode);
        Assert.Equal("draft one", await http.GetStringAsync(new Uri(root, "docs/report-monday.txt"), Ct));
        Assert.Equal("ruined", await http.GetStringAsync(new Uri(root, "docs/report.txt"), Ct));
    }

    private static async Task<string> PropFindAsync(HttpClient http, Uri url, string depth)
    {
        using var find = new HttpRequestMessage(new HttpMethod("PROPFIND"), url) { Content = new StringContent("") };
        find.Headers.Add("Depth", depth);
        using HttpResponseMessage response = await http.SendAsync(find, Ct);
        Assert.Equal((HttpStatusCode)207, response.StatusCode);
        return await response.Content.ReadAsStringAsync(Ct);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string method, Uri url, Uri? destination = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (destination is not null)
        {
            request.Headers.Add("Destination", destination.ToString());
        }

        return await http.SendAsync(request, Ct);
    }
}
