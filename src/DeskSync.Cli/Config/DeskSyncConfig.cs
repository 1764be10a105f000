using System.Text.Json;
using System.Text.Json.Serialization;
using DeskSync.ZohoDesk.Auth;
using DeskSync.ZohoDesk.Regions;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.Cli.Config;

/// <summary>
/// desksync.json: the data sources, without secrets. Secrets (client secret, refresh token,
/// cached access token) live in an owner-only file per source under .desksync/secrets/, or
/// come from the environment.
/// </summary>
public sealed record DeskSyncConfig
{
    public const string DefaultPath = "desksync.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    [JsonPropertyName("sources")]
    public Dictionary<string, DataSourceConfig> Sources { get; init; } = new(StringComparer.Ordinal);

    /// <summary>`run`'s journal: "local" (the default) or the NATS servers of a JetStream cluster (nats://HOST:PORT, comma-separated).</summary>
    [JsonPropertyName("journal")]
    public string? Journal { get; init; }

    /// <summary>JetStream: the servers each record is replicated on (default 3).</summary>
    [JsonPropertyName("journalReplicas")]
    public int? JournalReplicas { get; init; }

    public static DeskSyncConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            return new DeskSyncConfig();
        }

        try
        {
            return JsonSerializer.Deserialize<DeskSyncConfig>(File.ReadAllText(path), Json) ?? new DeskSyncConfig();
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"{path} is not valid JSON ({ex.Message}). Fix it or remove it and run `desksync auth` again.");
        }
    }

    public void Save(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, Json));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The named source with environment overrides applied (DESKSYNC_*).</summary>
    public DataSourceConfig Resolve(string? name)
    {
        DataSourceConfig source;
        if (name is null && Sources.Count == 1)
        {
            source = Sources.Values.First();
        }
        else if (name is not null && Sources.TryGetValue(name, out var named))
        {
            source = named;
        }
        else if (name is null && Sources.Count == 0)
        {
            source = new DataSourceConfig();
        }
        else
        {
            throw new ConfigException(name is null
                ? $"The config has {Sources.Count} data sources; name one with --source ({string.Join(", ", Sources.Keys)})."
                : $"No data source named '{name}' in the config ({string.Join(", ", Sources.Keys)}).");
        }

        return source with
        {
            DataCenter = Env("DESKSYNC_DC") ?? source.DataCenter,
            OrgId = Env("DESKSYNC_ORG_ID") ?? source.OrgId,
            ClientId = Env("DESKSYNC_CLIENT_ID") ?? source.ClientId,
            AccountsUrl = Env("DESKSYNC_ACCOUNTS_URL") ?? source.AccountsUrl,
            ApiUrl = Env("DESKSYNC_API_URL") ?? source.ApiUrl,
            Target = Env("DESKSYNC_TARGET") ?? source.Target,
        };
    }

    /// <summary>Zoho keeps 20 refresh tokens per user and client: the 21st silently revokes the oldest.</summary>
    public IEnumerable<string> SharedClientWarnings() =>
        Sources.Where(s => s.Value.ClientId is not null).GroupBy(s => s.Value.ClientId, StringComparer.Ordinal).Where(g => g.Count() > 1)
            .Select(g => $"data sources {string.Join(", ", g.Select(s => s.Key))} share client ID {g.Key}. Zoho keeps at most 20 refresh tokens per user and client; "
                + "connecting more silently revokes the oldest source's token. Give each data source its own Self Client.");

    internal static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}

public sealed record DataSourceConfig
{
    public string DataCenter { get; init; } = "US";

    public string? OrgId { get; init; }

    public string? ClientId { get; init; }

    /// <summary>Overrides the data centre's accounts server (the emulator, a proxy).</summary>
    public string? AccountsUrl { get; init; }

    /// <summary>Overrides the data centre's Desk host.</summary>
    public string? ApiUrl { get; init; }

    /// <summary>The portal's edition as Zoho reported it; sets the concurrency cap.</summary>
    public string? Edition { get; init; }

    /// <summary>API credits DeskSync never spends.</summary>
    public long? CreditReserve { get; init; }

    /// <summary>Where the data goes: sqlite:FILE (default sqlite:desksync.db beside the settings),
    /// postgres:CONNECTION-STRING, jsonl:FOLDER or csv:FOLDER. DESKSYNC_TARGET overrides it.</summary>
    public string? Target { get; init; }

    /// <summary>PostgreSQL schema for the tables (default public).</summary>
    public string? TargetSchema { get; init; }

    /// <summary>flat (a typed column per field, default) or document (the record as JSON).</summary>
    public string? Mode { get; init; }

    /// <summary>Flat mode: false leaves _raw (the whole record as JSON) out of new tables (default true).</summary>
    public bool? Raw { get; init; }

    /// <summary>Tables to replicate; all when empty.</summary>
    public List<string>? Tables { get; init; }

    /// <summary>Read every ticket's detail too (one call per ticket).</summary>
    public bool? DetailMode { get; init; }

    /// <summary>ticket_threads: false keeps the thread list's summary only, without one call per new thread for its content (default true).</summary>
    public bool? ThreadContent { get; init; }

    /// <summary>ticket_attachments: a folder (relative to the settings file) each attachment's file is downloaded into, one folder per ticket; unset: metadata and link only.</summary>
    public string? AttachmentsFolder { get; init; }

    /// <summary>How the full load and the re-reads are made for this source.</summary>
    public SnapshotOptions Snapshot(bool detail = false, bool fullRefresh = false) =>
        new() { DetailMode = detail || DetailMode == true, FullRefresh = fullRefresh, ThreadContent = ThreadContent != false };

    /// <summary>Where `desksync run` listens for webhooks (default http://127.0.0.1:8080; 0.0.0.0:80 or :443 in production).</summary>
    public string? WebhookListen { get; init; }

    /// <summary>The public base URL Zoho reaches DeskSync at (https://sync.example.com).</summary>
    public string? PublicUrl { get; init; }

    /// <summary>webhook (default), polling or webhook+polling.</summary>
    public string? Incremental { get; init; }

    /// <summary>e.g. 5m; see `desksync run --help`.</summary>
    public string? PollInterval { get; init; }

    /// <summary>e.g. 24h, or off.</summary>
    public string? ReconcileInterval { get; init; }

    /// <summary>Refuse webhook deliveries without a valid X-ZDesk-JWT.</summary>
    public bool? VerifyJwt { get; init; }

    /// <summary>The ids of this data source's webhooks (the JWT's aud); any when empty.</summary>
    public List<string>? WebhookIds { get; init; }

    /// <summary>hard (remove deleted rows, default) or soft (keep them with _deleted_at).</summary>
    public string? DeleteMode { get; init; }

    /// <summary>Where the secrets file is; default .desksync/secrets/&lt;source&gt;.json beside desksync.json.</summary>
    public string? SecretsFile { get; init; }

    public ZohoEndpoints Endpoints()
    {
        var dc = ZohoDataCenter.Find(DataCenter) ?? throw new ConfigException(
            $"Unknown data centre '{DataCenter}'. Use one of: {string.Join(", ", ZohoDataCenter.All.Select(d => d.Code))}.");
        try
        {
            return ZohoEndpoints.For(dc, AccountsUrl, ApiUrl);
        }
        catch (ArgumentException ex)
        {
            throw new ConfigException(ex.Message);
        }
    }

    public string SecretsPath(string configPath, string sourceName) =>
        SecretsFile ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, ".desksync", "secrets", sourceName + ".json");

    /// <summary>The client secret: DESKSYNC_CLIENT_SECRET, else the secrets file.</summary>
    public static async Task<OAuthClientCredentials> CredentialsAsync(DataSourceConfig source, ITokenStore store, CancellationToken cancellationToken)
    {
        var clientId = source.ClientId ?? throw new ConfigException("No client ID configured: run `desksync auth --client-id …` or set DESKSYNC_CLIENT_ID.");
        var secret = DeskSyncConfig.Env("DESKSYNC_CLIENT_SECRET") ?? (await store.LoadAsync(cancellationToken))?.ClientSecret
            ?? throw new ConfigException("No client secret: run `desksync auth` or set DESKSYNC_CLIENT_SECRET.");
        return new OAuthClientCredentials(clientId, secret);
    }
}

/// <summary>Wrong or missing settings; the message says what to change.</summary>
public class ConfigException(string message) : Exception(message);

/// <summary>The token works, but the org ID given is not among its portals; the connection is kept.</summary>
public sealed class WrongOrgException(string message) : ConfigException(message);
