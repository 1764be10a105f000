using DeskSync.Cli.Config;
using DeskSync.Core.Journal;
using DeskSync.Core.Locking;
using DeskSync.Nats;
using NATS.Client.Core;

namespace DeskSync.Cli.Service;

/// <summary>
/// The journal on a JetStream cluster, shared by every `desksync` process that serves the same
/// data sources: one connection per process, a replicated stream and a lease per data source.
/// </summary>
internal sealed class SharedJournal : IAsyncDisposable
{
    private readonly NatsConnection _connection;
    private readonly int _replicas;
    private readonly TimeSpan _leaseTtl;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private JetStreamLeases? _leases;

    private SharedJournal(NatsConnection connection, string servers, int replicas, TimeSpan leaseTtl)
    {
        _connection = connection;
        Servers = servers;
        _replicas = replicas;
        _leaseTtl = leaseTtl;
    }

    /// <summary>The servers as given, without any password.</summary>
    public string Servers { get; }

    /// <summary>This process, as other processes see it holding a lease.</summary>
    public static string Me { get; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>Null for the local journal; else connects to the cluster named by <paramref name="spec"/>.</summary>
    public static async Task<SharedJournal?> OpenAsync(string? spec, int replicas, TimeSpan leaseTtl, CancellationToken ct)
    {
        if (spec is null || spec.Equals("local", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var urls = spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.Length == 0 || urls.Any(u => !Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme is not ("nats" or "tls") || uri.Port <= 0))
        {
            throw new ConfigException($"--journal '{Redact(spec)}' is not accepted: give local (the default), or the NATS servers of a JetStream cluster as nats://HOST:PORT, comma-separated (e.g. nats://10.0.0.1:4222,nats://10.0.0.2:4222,nats://10.0.0.3:4222).");
        }

        if (replicas is < 1 or > 5)
        {
            throw new ConfigException($"--journal-replicas {replicas} is not accepted: JetStream replicates a stream on 1 to 5 servers (3 is the default; 1 has no server to spare).");
        }

        var connection = new NatsConnection(new NatsOpts
        {
            Url = string.Join(',', urls),
            Name = "desksync " + Me,
            MaxReconnectRetry = -1,
            RequestTimeout = TimeSpan.FromSeconds(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        });
        try
        {
            await connection.ConnectAsync();
        }
        catch (NatsException ex)
        {
            await connection.DisposeAsync();
            throw new IOException($"The NATS servers at {Redact(spec)} cannot be reached ({ex.Message}). Start them, or check --journal; webhooks are not received until the journal can take them.", ex);
        }

        return new SharedJournal(connection, Redact(spec), replicas, leaseTtl);
    }

    public async Task<IJournal> OpenJournalAsync(string source, CancellationToken ct) =>
        await JetStreamJournal.OpenAsync(_connection, JetStreamJournalOptions.For(source) with { Replicas = _replicas }, ct);

    /// <summary>The source's lease for a one-off command (`journal rebaseline`): outside the group, so the serving processes' shares do not change.</summary>
    public async Task<ISourceLease> OpenLoneLeaseAsync(string source, CancellationToken ct) =>
        await JetStreamLease.OpenAsync(_connection, source, Me, _leaseTtl, _replicas, ct);

    /// <summary>The source's lease, in this process's group of leases (which spreads the sources across the processes).</summary>
    public async Task<ISourceLease> OpenLeaseAsync(string source, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            _leases ??= await JetStreamLeases.OpenAsync(_connection, Me, _leaseTtl, _replicas, ct);
        }
        finally
        {
            _gate.Release();
        }

        return _leases.For(source);
    }

    /// <summary>The servers without a user's password (nats://user:password@host).</summary>
    public static string Redact(string spec) => string.Join(',', spec.Split(',').Select(u =>
        Uri.TryCreate(u.Trim(), UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0 ? $"{uri.Scheme}://***@{uri.Authority}" : u.Trim()));

    public async ValueTask DisposeAsync()
    {
        if (_leases is not null)
        {
            await _leases.DisposeAsync();
        }

        await _connection.DisposeAsync();
        _gate.Dispose();
    }
}
