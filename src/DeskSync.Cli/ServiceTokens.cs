using System.Text.Json;
using DeskSync.Cli.Config;
using DeskSync.Core.Files;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.Cli;

/// <summary>
/// Each data source's service-URL token, in its own owner-only file beside the secrets. The token
/// belongs to the data source, not to a path: moving or restoring the folder, or renaming the
/// settings file, keeps it. The file remembers the settings file it was last used with; when that
/// one is gone, the source was moved and keeps its URL. When it is still there and still holds
/// the same token, this is a copy running beside the original, and the copy gets its own token —
/// two data sources never share a service URL.
/// </summary>
internal static class ServiceTokens
{
    public static string PathOf(string configPath, string source) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, ".desksync", "secrets", source + ".service-token.json");

    /// <summary>The token, and a message when the operator must do or know something (a new URL to configure, a move noticed).</summary>
    public static (string Token, string? Notice) Ensure(string configPath, string source)
    {
        var path = PathOf(configPath, source);
        var here = Path.GetFullPath(configPath);
        if (Read(path) is { } saved)
        {
            var lastSeen = saved.Settings ?? OwnerPath(saved.Owner);
            if (lastSeen is null || lastSeen == here)
            {
                if (saved.Settings != here)
                {
                    Write(path, saved.Token, source, here);
                }

                return (saved.Token, null);
            }

            if (!IsOriginal(lastSeen, source, saved.Token))
            {
                Write(path, saved.Token, source, here);
                return (saved.Token, $"This data source was moved from {lastSeen}: it keeps its service URL.");
            }

            var fresh = ServiceUrlToken.New();
            Write(path, fresh, source, here);
            return (fresh, $"This data source's files were copied from {lastSeen}, which still uses the same service URL: this copy gets its own. Configure the new URL in Zoho Desk (or run `desksync webhook register`).");
        }

        var token = ServiceUrlToken.New();
        Write(path, token, source, here);
        return (token, "A new service URL was made for this data source. Configure it in Zoho Desk (Setup → Developer Space → Webhooks) or run `desksync webhook register`.");
    }

    /// <summary>For output that others may read: the start and end of the token only.</summary>
    public static string Redact(string url)
    {
        var i = url.LastIndexOf('/');
        var token = url[(i + 1)..];
        return token.Length > 8 ? url[..(i + 1)] + token[..3] + "…" + token[^3..] : url;
    }

    /// <summary>Whether the settings file the token was last used with still exists and still holds this source with this token.</summary>
    private static bool IsOriginal(string settings, string source, string token) =>
        File.Exists(settings) && Read(PathOf(settings, source)) is { } there && there.Token == token;

    private static Saved? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Saved>(File.ReadAllText(path)) is { Token.Length: > 0 } saved ? saved : null;
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"The service-URL file {path} cannot be read ({ex.Message}). Restore it from a backup to keep the URL Zoho calls, or remove it: a new URL is then made, to configure in Zoho Desk.");
        }
    }

    private static void Write(string path, string token, string source, string settings)
    {
        OwnerOnly.CreateFolder(Path.GetDirectoryName(path)!);
        OwnerOnly.WriteAllText(path, JsonSerializer.Serialize(new Saved(token, null, source, settings)));
    }

    /// <summary>Earlier versions recorded "source@/full/path/desksync.json".</summary>
    private static string? OwnerPath(string? owner) => owner?.IndexOf('@') is int at and >= 0 ? owner[(at + 1)..] : null;

    private sealed record Saved(string Token, string? Owner, string? Source = null, string? Settings = null);
}
