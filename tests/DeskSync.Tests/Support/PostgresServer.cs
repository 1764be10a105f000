using Npgsql;

namespace DeskSync.Tests.Support;

/// <summary>
/// The PostgreSQL server most tests share (a class fixture): one cluster for the whole run, started
/// by the first class that asks and stopped when the test process ends (<see cref="PostgresCluster"/>). Each test writes into a
/// schema of its own (<see cref="NewSchema"/>), so classes that use it run in parallel. Tests that
/// stop the server or make it read-only use <see cref="RestartablePostgresServer"/> instead.
/// </summary>
public class PostgresServer : IAsyncLifetime
{
    private static readonly Lazy<Task<PostgresCluster>> Shared = new(StartSharedAsync);

    protected PostgresCluster Cluster { get; set; } = null!;

    public string ConnectionString => Cluster.ConnectionString;

    /// <summary>A fresh schema name for one test.</summary>
    public static string NewSchema() => "t_" + Guid.NewGuid().ToString("N")[..10];

    public virtual async Task InitializeAsync() => Cluster = await Shared.Value;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    public Task<NpgsqlConnection> OpenAsync() => Cluster.OpenAsync();

    private static async Task<PostgresCluster> StartSharedAsync()
    {
        var cluster = new PostgresCluster();
        await cluster.InitializeAsync();
        return cluster;
    }
}

/// <summary>
/// A server of its own for the tests that stop it, restart it or turn it read-only (the collection
/// <see cref="PostgresOutages"/>): what they do to it cannot reach the tests on the shared one.
/// </summary>
public sealed class RestartablePostgresServer : PostgresServer
{
    public override async Task InitializeAsync()
    {
        Cluster = new PostgresCluster();
        await Cluster.InitializeAsync();
    }

    public override Task DisposeAsync() => Cluster.DisposeAsync();

    /// <summary>True when the tests started this server themselves (and so may restart it).</summary>
    public bool SelfManaged => Cluster.SelfManaged;

    /// <summary>Stops the server at once (as a crash would) and starts it again.</summary>
    public Task RestartAsync() => Cluster.RestartAsync();

    /// <summary>Stops the server at once, as a crash would.</summary>
    public Task StopAsync() => Cluster.StopAsync();

    public Task StartAsync() => Cluster.StartAsync();

    /// <summary>Starts the server unless it runs (a test that stopped it and failed before starting it again).</summary>
    public async Task StartIfStoppedAsync()
    {
        try
        {
            await using var probe = await Cluster.OpenAsync();
        }
        catch (Npgsql.NpgsqlException)
        {
            await Cluster.StartAsync();
        }
    }
}

[CollectionDefinition(Name)]
[RunsLong]
public sealed class PostgresOutages : ICollectionFixture<RestartablePostgresServer>
{
    public const string Name = "PostgreSQL outages";
}
