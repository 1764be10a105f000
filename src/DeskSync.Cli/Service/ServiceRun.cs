using System.Runtime.InteropServices;
using DeskSync.Cli.Commands;
using DeskSync.Cli.Config;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Extensions.Logging;

namespace DeskSync.Cli.Service;

/// <summary>
/// `run` serving several data sources on one listener. Each source runs on its own: one that fails
/// (a revoked grant, credits spent, a target away for longer than --target-retry) is reported,
/// shown failing in /healthz, and tried again with growing waits while the others go on; its
/// receiver keeps journaling its webhooks meanwhile. SIGHUP re-reads the settings: sources added
/// are started and sources removed are stopped, the others untouched.
/// </summary>
internal sealed class ServiceRun(RunSettings run, string configPath, SharedJournal? shared)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromMinutes(10);
    private readonly Dictionary<string, Served> _served = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _reload = new(0);

    /// <summary>
    /// Which sources `run` serves together: null when it serves one the way it always has (one
    /// named with --source, or the only one in the settings); else every source of the settings,
    /// or those named with --source a,b.
    /// </summary>
    public static IReadOnlyList<string>? Chosen(string? option, bool allSources, DeskSyncConfig config, string configPath)
    {
        if (allSources && option is not null)
        {
            throw new ConfigException("--all-sources and --source name the sources twice: give one of them.");
        }

        if (option is not null && !option.Contains(',', StringComparison.Ordinal))
        {
            return null;
        }

        if (option is null)
        {
            return config.Sources.Count <= 1 && !allSources ? null : [.. config.Sources.Keys.Order(StringComparer.Ordinal)];
        }

        var names = option.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        var unknown = names.Where(n => !config.Sources.ContainsKey(n)).ToList();
        return unknown.Count == 0
            ? names
            : throw new ConfigException($"No data source named {string.Join(", ", unknown)} in {configPath} ({string.Join(", ", config.Sources.Keys)}).");
    }

    /// <param name="chosen">Whether --source named the sources: a reload then keeps to them; else it serves every source of the settings.</param>
    public async Task<int> RunAsync(IReadOnlyList<string> names, bool chosen, CancellationToken ct)
    {
        var listen = ListenUrl.Check(run.Listen ?? "http://127.0.0.1:8080");
        await using var server = await WebhookServer.StartAsync(new WebhookServerOptions
        {
            Listen = listen,
            AdminListen = run.AdminListen is { } admin ? ListenUrl.Check(admin) : ListenUrl.AdminBeside(listen),
            CertificatePath = run.Certificate,
            CertificatePassword = DeskSyncConfig.Env("DESKSYNC_CERT_PASSWORD"),
            ManySources = true,
        }, ct);
        OutputLog.Info("listening", $"Serving {names.Count} data sources ({string.Join(", ", names)}) on {server.Address}; health and metrics of each on {server.AdminAddress}healthz and {server.AdminAddress}metrics.");
        using var loggers = OperatorLoggerProvider.Factory();
        using var stopAll = CancellationTokenSource.CreateLinkedTokenSource(ct);
        foreach (var name in names)
        {
            Start(name, server, loggers, stopAll.Token);
        }

        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
        {
            signal.Cancel = true;
            _reload.Release();
        });
        using var status = new Timer(_ => StatusLines(), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        var reload = _reload.WaitAsync(ct);
        while (!ct.IsCancellationRequested)
        {
            var running = _served.Values.Select(s => s.Loop).Where(l => !l.IsCompleted).ToList();
            if (run.Once && running.Count == 0)
            {
                break;
            }

            var done = await Task.WhenAny([reload, .. running]);
            if (done == reload && reload.IsCompletedSuccessfully)
            {
                Reload(chosen, server, loggers, stopAll.Token);
                reload = _reload.WaitAsync(ct);
            }
        }

        await stopAll.CancelAsync();
        await Task.WhenAll(_served.Values.Select(s => s.Loop));
        if (ct.IsCancellationRequested)
        {
            OutputLog.Info("stopped", CommandRunner.Stopped);
            return ExitCodes.Interrupted;
        }

        return _served.Values.Select(s => s.ExitCode).DefaultIfEmpty(ExitCodes.Success).Max();
    }

    private void Start(string name, WebhookServer server, ILoggerFactory loggers, CancellationToken ct)
    {
        var served = new Served(CancellationTokenSource.CreateLinkedTokenSource(ct));
        _served[name] = served;
        served.Loop = ServeAsync(name, served, server, loggers);
    }

    private void Reload(bool chosen, WebhookServer server, ILoggerFactory loggers, CancellationToken ct)
    {
        DeskSyncConfig config;
        try
        {
            config = DeskSyncConfig.Load(configPath);
        }
        catch (ConfigException ex)
        {
            OutputLog.Warn("reload", $"the settings were not re-read: {ex.Message} Nothing changed.");
            return;
        }

        var wanted = chosen ? [.. _served.Keys.Where(config.Sources.ContainsKey)] : config.Sources.Keys.ToList();
        var added = wanted.Except(_served.Keys).ToList();
        var removed = _served.Keys.Except(wanted).ToList();
        foreach (var name in removed)
        {
            var served = _served[name];
            _served.Remove(name);
            served.Stop.Cancel();
            server.SetProblem(name, null);
        }

        foreach (var name in added)
        {
            Start(name, server, loggers, ct);
        }

        OutputLog.Info("reload", $"settings re-read: {(added.Count == 0 ? "no source added" : "started " + string.Join(", ", added))}; {(removed.Count == 0 ? "no source removed" : "stopped " + string.Join(", ", removed))}; the others were left running.");
    }

    private async Task ServeAsync(string name, Served served, WebhookServer server, ILoggerFactory loggers)
    {
        await Task.Yield();
        var failures = 0;
        var ct = served.Stop.Token;
        while (!ct.IsCancellationRequested)
        {
            SourceRun? source = null;
            try
            {
                RefuseSharedTarget(name);
                source = await SourceRun.StartAsync(run, configPath, name, server, shared, loggers, line => OutputLog.Report(line, name), ct);
                served.Current = source;
                failures = 0;
                source.Announce(run, shared?.Servers, $"[{name}] ");
                var results = await source.RunAsync(run, ct);
                served.ExitCode = results.Any(r => r.Status == TableLoadStatus.Failed) ? ExitCodes.Unexpected : ExitCodes.Success;
                if (run.Once || ct.IsCancellationRequested)
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                var (code, message) = CommandRunner.Explain(ex);
                served.ExitCode = code;
                failures++;
                // What heals by itself (Zoho, the network or the journal's cluster away) is tried again soon.
                var first = code == ExitCodes.Transient ? TimeSpan.FromSeconds(2) : FirstRetry;
                var wait = TimeSpan.FromSeconds(Math.Min(LongestRetry.TotalSeconds, first.TotalSeconds * Math.Pow(2, Math.Min(failures - 1, 10))));
                server.SetProblem(name, $"stopped: {message} (tried again in {wait.TotalSeconds:0} s)");
                OutputLog.Report($"warning: {message.TrimEnd('.')}. The other data sources go on; {(run.Once ? "this one is not tried again (--once)" : $"this one is tried again in {wait.TotalSeconds:0} s, its webhooks journaled meanwhile")}.", name);
                if (run.Once)
                {
                    return;
                }

                // The receiver stays up through the wait, so Zoho's deliveries are still journaled.
                try
                {
                    await Task.Delay(wait, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            finally
            {
                served.Current = null;
                if (source is not null)
                {
                    await source.DisposeAsync();
                }
            }

            server.SetProblem(name, null);
        }
    }

    /// <summary>Two data sources writing one target would overwrite each other's tables: the one after the other in name order is refused.</summary>
    private void RefuseSharedTarget(string name)
    {
        var config = DeskSyncConfig.Load(configPath);
        string Target(string source) => (config.Resolve(source).Target ?? "sqlite:desksync.db").Trim();
        var mine = Target(name);
        var first = _served.Keys.Where(config.Sources.ContainsKey).Order(StringComparer.Ordinal).First(other => Target(other) == mine);
        if (first != name)
        {
            throw new ConfigException($"{name} writes the same target as {first} ({mine}): give each data source its own \"target\" in the settings, then send SIGHUP.");
        }
    }

    private void StatusLines()
    {
        foreach (var (name, served) in _served.ToList())
        {
            if (served.Current is { } source)
            {
                served.Line ??= new StatusLine(source.Sync, source.Webhooks, TimeProvider.System);
                OutputLog.Report("status: " + served.Line.Next(), name);
            }
        }
    }

    private sealed class Served(CancellationTokenSource stop)
    {
        public CancellationTokenSource Stop { get; } = stop;

        public Task Loop { get; set; } = Task.CompletedTask;

        public SourceRun? Current { get; set; }

        public StatusLine? Line { get; set; }

        public int ExitCode { get; set; }
    }
}
