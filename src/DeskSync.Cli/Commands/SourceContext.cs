using DeskSync.Cli.Config;
using DeskSync.ZohoDesk.Auth;

namespace DeskSync.Cli.Commands;

/// <summary>The configured data source a command works on, connected.</summary>
internal sealed class SourceContext : IDisposable
{
    private SourceContext(string configPath, string name, DataSourceConfig source, Connection connection)
    {
        ConfigPath = configPath;
        Name = name;
        Source = source;
        Connection = connection;
    }

    public string ConfigPath { get; }

    public string Name { get; }

    public DataSourceConfig Source { get; }

    public Connection Connection { get; }

    public static async Task<SourceContext> OpenAsync(string configPath, string? sourceName, CancellationToken ct)
    {
        var config = DeskSyncConfig.Load(configPath);
        if (config.Sources.Count == 0 && DeskSyncConfig.Env("DESKSYNC_ORG_ID") is null)
        {
            throw new ConfigException($"No data source in {configPath}: run `desksync auth` first (or `desksync demo` to try DeskSync against the emulator).");
        }

        foreach (var warning in config.SharedClientWarnings())
        {
            Console.Error.WriteLine("warning: " + warning);
        }

        var name = sourceName ?? (config.Sources.Count == 1 ? config.Sources.Keys.First() : null);
        var source = config.Resolve(name);
        if (source.OrgId is null)
        {
            throw new ConfigException("No org ID configured: run `desksync auth --org-id …` or set DESKSYNC_ORG_ID.");
        }

        var store = new FileTokenStore(source.SecretsPath(configPath, name ?? "default"));
        var credentials = await DataSourceConfig.CredentialsAsync(source, store, ct);
        return new SourceContext(configPath, name ?? "default", source, Connection.Open(source, credentials, store));
    }

    public void Dispose() => Connection.Dispose();
}
