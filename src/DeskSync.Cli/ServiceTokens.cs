using System.Text.Json;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.Cli;

/// <summary>
/// Each data source's service-URL token, in its own owner-only file beside the secrets. The file
/// records which data source (name and settings file) it was made for: a data source created by
/// copying another one's files gets a new token, so that two never share a service URL.
/// </summary>
internal static class ServiceTokens
{
    public static string PathOf(string configPath, string source) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, ".desksync", "secrets", source + ".service-token.json");

    /// <summary>The token, and a message when one was created (the user must configure the URL in Zoho Desk).</summary>
    public static (string Token, string? Notice) Ensure(string configPath, string source)
    {
        var path = PathOf(configPath, source);
        var owner = $"{source}@{Path.GetFullPath(configPath)}";
        string? notice = null;
        if (File.Exists(path))
        {
            var saved = JsonSerializer.Deserialize<Saved>(File.ReadAllText(path));
            if (saved is not null && saved.Owner == owner)
            {
                return (saved.Token, null);
            }

            notice = $"This data source's files were copied from {saved?.Owner ?? "another data source"}: it gets its own service URL. Configure the new URL in Zoho Desk (or run `desksync webhook register`).";
        }

        var token = ServiceUrlToken.New();
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, options))
        {
            JsonSerializer.Serialize(stream, new Saved(token, owner));
        }

        File.Move(temp, path, overwrite: true);
        return (token, notice ?? "A new service URL was made for this data source. Configure it in Zoho Desk (Setup → Developer Space → Webhooks) or run `desksync webhook register`.");
    }

    /// <summary>For output that others may read: the start and end of the token only.</summary>
    public static string Redact(string url)
    {
        var i = url.LastIndexOf('/');
        var token = url[(i + 1)..];
        return token.Length > 8 ? url[..(i + 1)] + token[..3] + "…" + token[^3..] : url;
    }

    private sealed record Saved(string Token, string Owner);
}
