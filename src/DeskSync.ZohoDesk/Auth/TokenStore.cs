using System.Text.Json;
using System.Text.Json.Serialization;

namespace DeskSync.ZohoDesk.Auth;

/// <summary>What DeskSync keeps of a connection: the refresh token (long-lived) and the last
/// access token with its expiry, so that a restart does not spend one of Zoho's 10 access
/// tokens per 10 minutes.</summary>
public sealed record StoredTokens
{
    /// <summary>The Self Client's secret, when it is kept in the same owner-only file.</summary>
    [JsonPropertyName("clientSecret")]
    public string? ClientSecret { get; init; }

    [JsonPropertyName("refreshToken")]
    public string? RefreshToken { get; init; }

    [JsonPropertyName("accessToken")]
    public string? AccessToken { get; init; }

    [JsonPropertyName("accessTokenExpiresAt")]
    public DateTimeOffset? AccessTokenExpiresAt { get; init; }

    [JsonPropertyName("scope")]
    public string? Scope { get; init; }

    public override string ToString() => "StoredTokens { *** }";
}

public interface ITokenStore
{
    Task<StoredTokens?> LoadAsync(CancellationToken cancellationToken);

    Task SaveAsync(StoredTokens tokens, CancellationToken cancellationToken);
}

/// <summary>
/// Tokens in a JSON file readable by its owner only (0600, in a 0700 folder), replaced
/// atomically so that a crash never leaves half a file.
/// </summary>
public sealed class FileTokenStore(string path) : ITokenStore
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public async Task<StoredTokens?> LoadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        await using var stream = File.OpenRead(Path);
        try
        {
            return await JsonSerializer.DeserializeAsync<StoredTokens>(stream, Options, cancellationToken);
        }
        catch (JsonException ex)
        {
            // The message names the file and the place, never its contents: they are secrets.
            throw new ZohoAuthException(AuthFailure.SecretsFileUnreadable,
                $"The secrets file {Path} cannot be read: it is not DeskSync's JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}). Restore it from a backup, or remove it and connect again with `desksync auth` and a new grant code.");
        }
    }

    public async Task SaveAsync(StoredTokens tokens, CancellationToken cancellationToken)
    {
        DeskSync.Core.Files.OwnerOnly.CreateFolder(System.IO.Path.GetDirectoryName(Path)!);
        var temp = Path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        var options = DeskSync.Core.Files.OwnerOnly.NewFile(FileMode.CreateNew, FileAccess.Write);
        options.Options = FileOptions.WriteThrough;
        try
        {
            await using (var stream = new FileStream(temp, options))
            {
                await JsonSerializer.SerializeAsync(stream, tokens, Options, cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }

            File.Move(temp, Path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}

/// <summary>Tokens kept in memory only (tests, or secrets that come from the environment).</summary>
public sealed class InMemoryTokenStore(StoredTokens? initial = null) : ITokenStore
{
    private StoredTokens? _tokens = initial;

    public Task<StoredTokens?> LoadAsync(CancellationToken cancellationToken) => Task.FromResult(_tokens);

    public Task SaveAsync(StoredTokens tokens, CancellationToken cancellationToken)
    {
        _tokens = tokens;
        return Task.CompletedTask;
    }
}
