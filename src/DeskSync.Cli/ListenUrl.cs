using System.Net;
using DeskSync.Cli.Config;

namespace DeskSync.Cli;

/// <summary>`--listen`: checked before anything starts, with what is accepted.</summary>
internal static class ListenUrl
{
    public static string Check(string text)
    {
        const string Accepted = "give http://ADDRESS:PORT or https://ADDRESS:PORT with an IP address (127.0.0.1, 0.0.0.0, [::]) or localhost, e.g. http://127.0.0.1:8080; port 0 picks a free one";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new ConfigException($"--listen '{text}' is not an http(s) URL: {Accepted}.");
        }

        if (uri.AbsolutePath != "/" || uri.Query.Length > 0)
        {
            throw new ConfigException($"--listen '{text}' has a path: DeskSync serves /hooks/<token> itself; {Accepted}.");
        }

        var host = uri.Host.Trim('[', ']');
        if (host != "localhost" && !IPAddress.TryParse(host, out _))
        {
            throw new ConfigException($"--listen '{text}' names a host, not an address to listen on: {Accepted}.");
        }

        return uri.Host == "localhost" ? new UriBuilder(uri) { Host = "127.0.0.1" }.Uri.ToString().TrimEnd('/') : text;
    }

    /// <summary>The admin listener's default: loopback, the public port + 1 (0 when the public port is 0).</summary>
    public static string AdminBeside(string publicListen)
    {
        var port = new Uri(publicListen).Port;
        return $"http://127.0.0.1:{(port is 0 or 65535 ? 0 : port + 1)}";
    }
}
