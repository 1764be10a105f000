using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace DeskSync.Tests.Support;

/// <summary>
/// A real PostgreSQL server for the tests: DESKSYNC_TEST_PG when set, otherwise a throwaway
/// cluster started from the machine's PostgreSQL binaries (Debian's postgresql package) on a free
/// loopback port, as the postgres user when the tests run as root. .ci/run installs the package.
/// </summary>
public sealed class PostgresCluster
{
    private string? _dataDir;
    private string? _binDir;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("DESKSYNC_TEST_PG") is { Length: > 0 } given)
        {
            ConnectionString = given;
            return;
        }

        _binDir = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault()
            : null;
        if (_binDir is null)
        {
            throw new InvalidOperationException("The PostgreSQL tests need a server: install Debian's postgresql package (apt-get install -y postgresql) or set DESKSYNC_TEST_PG to a connection string.");
        }

        _dataDir = Path.Combine(Path.GetTempPath(), "desksync-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_dataDir);
        var asRoot = Environment.UserName == "root";
        StopWhenThisProcessEnds(asRoot);
        if (asRoot)
        {
            await Run("chown", "postgres:postgres", _dataDir);
        }

        await Pg(asRoot, "initdb", "-D", _dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8");
        // The options go into postgresql.auto.conf so that a restart keeps them.
        var conf = Path.Combine(_dataDir, "postgresql.auto.conf");
        await File.AppendAllTextAsync(conf, $"unix_socket_directories = '{_dataDir}'\nlisten_addresses = '127.0.0.1'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        // PostgreSQL cannot listen on port 0 and say which port it got: a port found free may be
        // taken before the server binds it, so a start that cannot bind tries another (the last
        // port line of the file wins).
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            await File.AppendAllTextAsync(conf, $"port = {port}\n");
            try
            {
                await Pg(asRoot, "pg_ctl", "-D", _dataDir, "-l", Path.Combine(_dataDir, "server.log"), "-w", "start");
                ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false";
                return;
            }
            catch (InvalidOperationException) when (attempt < 5 && File.ReadAllText(Path.Combine(_dataDir, "server.log")).Contains("could not bind", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_dataDir is not null && _binDir is not null && Directory.Exists(_dataDir))
        {
            await Pg(Environment.UserName == "root", "pg_ctl", "-D", _dataDir, "-m", "immediate", "stop");
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    /// <summary>True when the tests started this server themselves (and so may restart it).</summary>
    public bool SelfManaged => _dataDir is not null;

    /// <summary>Stops the server at once (as a crash would) and starts it again.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    /// <summary>Stops the server at once, as a crash would.</summary>
    public Task StopAsync() => Pg(Environment.UserName == "root", "pg_ctl", "-D", _dataDir!, "-m", "immediate", "stop");

    public Task StartAsync() => Pg(Environment.UserName == "root", "pg_ctl", "-D", _dataDir!, "-l", Path.Combine(_dataDir!, "server.log"), "-w", "start");

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>
    /// However the test process ends (a normal exit, or killed by the hang timeout), the cluster
    /// must not outlive it: a watcher in a session of its own stops the server and removes its
    /// files once the process is gone (a no-op when <see cref="DisposeAsync"/> already did).
    /// </summary>
    private void StopWhenThisProcessEnds(bool asRoot)
    {
        var pgCtl = Path.Combine(_binDir!, "pg_ctl");
        var stop = asRoot ? $"runuser -u postgres -- '{pgCtl}'" : $"'{pgCtl}'";
        var script = "exec </dev/null >/dev/null 2>&1; " +
                     $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; " +
                     $"if [ -f '{_dataDir}/postmaster.pid' ]; then {stop} -D '{_dataDir}' -m immediate stop; fi; rm -rf '{_dataDir}'";
        using var watcher = Process.Start(new ProcessStartInfo("setsid", ["-f", "bash", "-c", script]))!;
        watcher.WaitForExit();
    }

    private Task Pg(bool asRoot, string tool, params string[] args) =>
        asRoot ? Run("runuser", ["-u", "postgres", "--", Path.Combine(_binDir!, tool), .. args]) : Run(Path.Combine(_binDir!, tool), args);

    private static async Task Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}{await stdout}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
