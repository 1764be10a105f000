using DeskSync.Cli.Config;
using DeskSync.Core.Locking;
using DeskSync.ZohoDesk.Auth;

namespace DeskSync.Cli.Commands;

/// <summary>The configured data source a command works on, connected; held for writing when the command writes it.</summary>
internal sealed class SourceContext : IDisposable
{
    private readonly DataSourceLock? _lock;

    private SourceContext(string configPath, string name, DataSourceConfig source, Connection connection, DataSourceLock? @lock)
    {
        ConfigPath = configPath;
        Name = name;
        Source = source;
        Connection = connection;
        _lock = @lock;
    }

    public string ConfigPath { get; }

    public string Name { get; }

    public DataSourceConfig Source { get; }

    public Connection Connection { get; }

    /// <summary>The folder beside the settings file that holds secrets, journals and locks.</summary>
    public static string StateFolder(string configPath) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, ".desksync");

    /// <param name="writer">The command, when it writes the source's journal, state or target: it takes the source's lock first.</param>
    public static async Task<SourceContext> OpenAsync(string configPath, string? sourceName, CancellationToken ct, string? writer = null)
    {
        var config = DeskSyncConfig.Load(configPath);
        if (config.Sources.Count == 0 && DeskSyncConfig.Env("DESKSYNC_ORG_ID") is null)
        {
            throw new ConfigException($"No data source in {configPath}: run `desksync auth` first (or `desksync demo` to try DeskSync against the emulator).");
        }

        foreach (var warning in config.SharedClientWarnings())
        {
            OutputLog.Warn("shared_client", warning);
        }

        var name = sourceName ?? (config.Sources.Count == 1 ? config.Sources.Keys.First() : null);
        var source = config.Resolve(name);
        if (source.OrgId is null)
        {
            throw new ConfigException("No org ID configured: run `desksync auth --org-id …` or set DESKSYNC_ORG_ID.");
        }

        var held = writer is null ? null : DataSourceLock.Acquire(DataSourceLock.PathOf(StateFolder(configPath), name ?? "default"), name ?? "default", writer);
        try
        {
            var store = new FileTokenStore(source.SecretsPath(configPath, name ?? "default"));
            var credentials = await DataSourceConfig.CredentialsAsync(source, store, ct);
            return new SourceContext(configPath, name ?? "default", source, Connection.Open(source, credentials, store), held);
        }
        catch
        {
            held?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Connection.Dispose();
        _lock?.Dispose();
    }
}
