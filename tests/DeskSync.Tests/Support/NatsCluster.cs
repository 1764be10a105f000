using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NATS.Client.Core;
using NATS.Client.JetStream;

#if BENCH
namespace DeskSync.Bench;
#else
namespace DeskSync.Tests.Support;
#endif

/// <summary>
/// A real three-server JetStream cluster on loopback for the tests, from Debian's nats-server
/// package (.ci/run installs it). Each server can be killed with SIGKILL and started again with its
/// files. A watcher in a session of its own kills the servers and removes their files when the test
/// process ends, however it ends.
/// </summary>
public sealed class NatsCluster
#if !BENCH
    : IAsyncLifetime // the benchmarks use this file too, without xunit
#endif
{
    public const string Binary = "/usr/sbin/nats-server";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "desksync-nats-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Process?[] _servers = new Process?[3];
    private int[] _clientPorts = [];
    private int[] _routePorts = [];

    /// <summary>Every server's client URL, comma-separated, as `--journal` takes them.</summary>
    public string Url => string.Join(',', _clientPorts.Select(p => $"nats://127.0.0.1:{p}"));

    public string UrlOf(int server) => $"nats://127.0.0.1:{_clientPorts[server]}";

    public async Task InitializeAsync()
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"The JetStream tests need {Binary}: install Debian's nats-server package (apt-get install -y nats-server).");
        }

        Directory.CreateDirectory(_dir);
        StopWhenThisProcessEnds();
        // nats-server cannot be told its peers' ports after it started: ports found free may be
        // taken before a server binds them, so a cluster that does not come up tries other ports.
        for (var attempt = 1; ; attempt++)
        {
            _clientPorts = [FreePort(), FreePort(), FreePort()];
            _routePorts = [FreePort(), FreePort(), FreePort()];
            for (var i = 0; i < 3; i++)
            {
                Start(i);
            }

            try
            {
                await WaitReadyAsync(TimeSpan.FromSeconds(30));
                return;
            }
            catch (TimeoutException) when (attempt < 3)
            {
                for (var i = 0; i < 3; i++)
                {
                    Kill(i);
                }
            }
        }
    }

    /// <summary>Kills a server with SIGKILL, as a crash would.</summary>
    public void Kill(int server)
    {
        if (_servers[server] is { } process)
        {
            try
            {
                process.Kill();
                process.WaitForExit();
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
            _servers[server] = null;
        }
    }

    /// <summary>Starts a killed server again on its ports and files.</summary>
    public void Start(int server)
    {
        var name = "n" + server.ToString(CultureInfo.InvariantCulture);
        var routes = string.Join(", ", _routePorts.Where((_, i) => i != server).Select(p => $"\"nats://127.0.0.1:{p}\""));
        var config = Path.Combine(_dir, name + ".conf");
        File.WriteAllText(config, $$"""
            server_name: {{name}}
            listen: "127.0.0.1:{{_clientPorts[server]}}"
            max_payload: 4MB
            jetstream { store_dir: "{{Path.Combine(_dir, name)}}", max_memory_store: 64MB, max_file_store: 1GB }
            cluster { name: "desksync-test", listen: "127.0.0.1:{{_routePorts[server]}}", routes: [{{routes}}] }
            """);
        var info = new ProcessStartInfo(Binary, ["-c", config, "-l", Path.Combine(_dir, name + ".log")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir,
        };
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _servers[server] = process;
    }

    /// <summary>Waits until the cluster answers JetStream requests (a meta leader is elected).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await using var connection = Connect();
                await connection.ConnectAsync();
                var js = new NatsJSContext(connection);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                // Ready when a stream replicated on all three servers can be made: every server is a JetStream peer again.
                var probe = "READY_" + Guid.NewGuid().ToString("N")[..8];
                await js.CreateStreamAsync(new NATS.Client.JetStream.Models.StreamConfig(probe, ["ready." + probe]) { NumReplicas = 3, Storage = NATS.Client.JetStream.Models.StreamConfigStorage.Memory }, cts.Token);
                await js.DeleteStreamAsync(probe, cts.Token);
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            catch (Exception ex)
            {
                throw new TimeoutException($"The JetStream cluster did not come up: {ex.Message}. Logs in {_dir}.", ex);
            }
        }
    }

    public NatsConnection Connect(string? url = null) => new(new NatsOpts
    {
        Url = url ?? Url,
        Name = "desksync-tests",
        RequestTimeout = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        MaxReconnectRetry = -1,
    });

    public Task DisposeAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            Kill(i);
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    private void StopWhenThisProcessEnds()
    {
        var script = "exec </dev/null >/dev/null 2>&1; " +
                     $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; " +
                     $"pkill -9 -f '^{Binary} -c {_dir}/'; rm -rf '{_dir}'"; // anchored: the pattern must not match this watcher's own command line
        using var watcher = Process.Start(new ProcessStartInfo("setsid", ["-f", "bash", "-c", script]))!;
        watcher.WaitForExit();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
