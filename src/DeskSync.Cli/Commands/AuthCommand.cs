using System.CommandLine;
using System.Text.Json;
using DeskSync.Cli.Config;
using DeskSync.ZohoDesk.Auth;
using DeskSync.ZohoDesk.Regions;

namespace DeskSync.Cli.Commands;

/// <summary>`desksync auth`: exchange a Self Client grant code once and store the refresh token.</summary>
internal static class AuthCommand
{
    public static Command Build(GlobalOptions global)
    {
        var dc = new Option<string?>("--dc") { Description = $"Zoho data centre: {string.Join(", ", ZohoDataCenter.All.Select(d => d.Code))} (default US)." };
        var orgId = new Option<string?>("--org-id") { Description = "The portal's org ID (Zoho Desk: Setup → Developer Space → API)." };
        var clientId = new Option<string?>("--client-id") { Description = "The Self Client's client ID (API console → Self Client → Client Secret tab)." };
        var clientSecret = new Option<string?>("--client-secret") { Description = "The Self Client's client secret; or set DESKSYNC_CLIENT_SECRET." };
        var grantCode = new Option<string?>("--grant-code") { Description = "A grant code from API console → Self Client → Generate Code (valid 3–10 minutes, once). Or DESKSYNC_GRANT_CODE." };
        var accountsUrl = new Option<string?>("--accounts-url") { Description = "Override the accounts server URL (emulator, proxy). Or DESKSYNC_ACCOUNTS_URL." };
        var apiUrl = new Option<string?>("--api-url") { Description = "Override the Desk API URL (emulator, proxy). Or DESKSYNC_API_URL." };
        var command = new Command("auth", "Connect a data source: exchange a grant code for a refresh token, stored owner-only.\n"
            + "Scopes to tick when generating the code: " + string.Join(",", Scopes.Recommended))
        {
            dc, orgId, clientId, clientSecret, grantCode, accountsUrl, apiUrl,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            var configPath = global.ConfigPath(parse);
            var sourceName = parse.GetValue(global.Source) ?? "default";
            var config = DeskSyncConfig.Load(configPath);
            var existing = config.Sources.GetValueOrDefault(sourceName) ?? new DataSourceConfig();
            var source = existing with
            {
                DataCenter = parse.GetValue(dc) ?? DeskSyncConfig.Env("DESKSYNC_DC") ?? existing.DataCenter,
                OrgId = parse.GetValue(orgId) ?? DeskSyncConfig.Env("DESKSYNC_ORG_ID") ?? existing.OrgId,
                ClientId = parse.GetValue(clientId) ?? DeskSyncConfig.Env("DESKSYNC_CLIENT_ID") ?? existing.ClientId,
                AccountsUrl = parse.GetValue(accountsUrl) ?? DeskSyncConfig.Env("DESKSYNC_ACCOUNTS_URL") ?? existing.AccountsUrl,
                ApiUrl = parse.GetValue(apiUrl) ?? DeskSyncConfig.Env("DESKSYNC_API_URL") ?? existing.ApiUrl,
            };
            var secret = parse.GetValue(clientSecret) ?? DeskSyncConfig.Env("DESKSYNC_CLIENT_SECRET");
            var code = parse.GetValue(grantCode) ?? DeskSyncConfig.Env("DESKSYNC_GRANT_CODE");
            var result = await ConnectAsync(configPath, sourceName, config, source, secret, code, Console.Out, ct);
            return result;
        }));
        return command;
    }

    /// <summary>Exchanges the code, checks the portal, writes desksync.json and the secrets file.
    /// Without an org ID, <paramref name="pickPortal"/> chooses among the portals the token sees.</summary>
    public static async Task<int> ConnectAsync(
        string configPath, string sourceName, DeskSyncConfig config, DataSourceConfig source,
        string? secret, string? code, TextWriter output, CancellationToken ct,
        Func<IReadOnlyList<JsonElement>, string?>? pickPortal = null)
    {
        if (pickPortal is null && string.IsNullOrWhiteSpace(source.OrgId))
        {
            throw new ConfigException("--org-id is required: the portal's numeric org ID (Zoho Desk: Setup → Developer Space → API).");
        }

        if (!string.IsNullOrWhiteSpace(source.OrgId) && !source.OrgId.All(char.IsAsciiDigit))
        {
            throw new ConfigException("--org-id must be the portal's numeric org ID (Zoho Desk: Setup → Developer Space → API).");
        }

        if (string.IsNullOrWhiteSpace(source.ClientId))
        {
            throw new ConfigException("--client-id is required (API console → Self Client → Client Secret tab).");
        }

        // A connection already made (a grant code exchanged before, e.g. with a wrong org ID) is
        // used again: correcting the org ID must not cost a new grant code.
        var secretsPath = source.SecretsPath(configPath, sourceName);
        var kept = string.IsNullOrWhiteSpace(code) ? await new FileTokenStore(secretsPath).LoadAsync(ct) : null;
        secret ??= kept?.ClientSecret;
        if (string.IsNullOrWhiteSpace(secret))
        {
            throw new ConfigException("--client-secret (or DESKSYNC_CLIENT_SECRET) is required (API console → Self Client → Client Secret tab).");
        }

        if (string.IsNullOrWhiteSpace(code) && kept?.RefreshToken is null)
        {
            throw new ConfigException("--grant-code is required: API console → Self Client → Generate Code, with the scopes listed in `desksync auth --help`; use it within its lifetime.");
        }

        ITokenStore staging = kept is not null ? new FileTokenStore(secretsPath) : new InMemoryTokenStore(new StoredTokens { ClientSecret = secret });
        using (var connection = Connection.Open(source, new OAuthClientCredentials(source.ClientId, secret), staging))
        {
            if (kept is null)
            {
                await connection.Tokens.ExchangeGrantCodeAsync(code!, ct);
                var stored = await staging.LoadAsync(ct);
                await new FileTokenStore(secretsPath).SaveAsync(stored!, ct);
            }

            var portals = await connection.Client.GetOrganizationsAsync(ct);
            if (string.IsNullOrWhiteSpace(source.OrgId))
            {
                source = source with { OrgId = pickPortal!(portals) ?? throw new ConfigException("No portal chosen.") };
            }

            var portal = portals.FirstOrDefault(p => p.GetProperty("id").ToString() == source.OrgId);
            if (portal.ValueKind == JsonValueKind.Undefined)
            {
                var seen = string.Join(", ", portals.Select(p => $"{p.GetProperty("id")} ({Text(p, "companyName")})"));
                config.Sources[sourceName] = source with { OrgId = null, Edition = null }; // the connection is kept, the wrong org is not
                config.Save(configPath);
                throw new WrongOrgException($"The token works, but org ID {source.OrgId} is not among the portals it can see: {seen}. The connection is kept: run `desksync auth --org-id <one of those>` (no new grant code needed).");
            }

            source = source with { Edition = Text(portal, "edition") };
            config.Sources[sourceName] = source;
            config.Save(configPath);
            foreach (var warning in config.SharedClientWarnings())
            {
                await output.WriteLineAsync("warning: " + warning);
            }

            await output.WriteLineAsync($"Connected data source '{sourceName}' to portal \"{Text(portal, "companyName")}\" ({Text(portal, "portalName")}, org {source.OrgId}, edition {source.Edition}).");
            await output.WriteLineAsync($"Settings: {Path.GetFullPath(configPath)}");
            await output.WriteLineAsync($"Secrets (owner-only): {secretsPath}");
        }

        return ExitCodes.Success;
    }

    internal static string Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is not JsonValueKind.Null and not JsonValueKind.Undefined ? v.ToString() : "?";
}

internal static class Scopes
{
    /// <summary>What a full DeskSync setup asks for: every stream's scopes and the webhook API's (facts page §1).</summary>
    public static IReadOnlyList<string> Recommended => DeskSync.ZohoDesk.Streams.DeskStreams.Scopes;
}
