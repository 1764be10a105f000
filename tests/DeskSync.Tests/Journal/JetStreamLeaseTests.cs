using DeskSync.Nats;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Journal;

/// <summary>The lease that lets one process of several apply a data source, on a real JetStream cluster.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class JetStreamLeaseTests(NatsCluster cluster) : IClassFixture<NatsCluster>
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2);

    private static string NewSource() => "lease-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task One_holder_at_a_time_and_a_release_hands_over_at_once()
    {
        var source = NewSource();
        await using var a = cluster.Connect(cluster.UrlOf(0));
        await using var b = cluster.Connect(cluster.UrlOf(1));
        await using var first = await JetStreamLease.OpenAsync(a, source, "first", Ttl, 3, CancellationToken.None, bucketName: "lease-test-" + source);
        await using var second = await JetStreamLease.OpenAsync(b, source, "second", Ttl, 3, CancellationToken.None, bucketName: "lease-test-" + source);

        var held = await first.AcquireAsync(CancellationToken.None);
        var firstTerm = first.Term!;
        using var waiting = new CancellationTokenSource();
        var taking = second.AcquireAsync(waiting.Token);

        // Nine renewals (three lifetimes): the holder keeps it, the other keeps waiting and sees who holds it.
        await Eventually.UntilAsync(() => second.Holder == "first", "the waiting process to see the holder");
        await Eventually.UntilAsync(() => first.Renewals >= 9 || taking.IsCompleted || held.IsCancellationRequested, "nine renewals of the lease");
        Assert.False(taking.IsCompleted, "a second process took a lease that was being renewed");
        Assert.False(held.IsCancellationRequested);

        await first.ReleaseAsync();
        Assert.True(held.IsCancellationRequested);
        var lost = await taking.WaitAsync(Ttl); // well before the key could have expired
        Assert.True(second.Held);
        Assert.False(lost.IsCancellationRequested);

        // The fencing token: the next holder's term comes after the last one's, in the same bucket.
        Assert.Null(first.Term);
        Assert.Equal(("first", firstTerm.Epoch), (firstTerm.Holder, second.Term!.Epoch));
        Assert.True(second.Term.Number > firstTerm.Number, $"term {second.Term.Number} after {firstTerm.Number}");
        Assert.False(firstTerm.Supersedes(second.Term.Epoch, second.Term.Number));
    }

    [Fact]
    public async Task A_holder_that_dies_is_replaced_after_its_lease_expires()
    {
        var source = NewSource();
        var bucket = "lease-test-" + source;
        await using var b = cluster.Connect(cluster.UrlOf(1));
        var a = cluster.Connect(cluster.UrlOf(0));
        var dying = await JetStreamLease.OpenAsync(a, source, "dying", Ttl, 3, CancellationToken.None, bucketName: bucket);
        await using var heir = await JetStreamLease.OpenAsync(b, source, "heir", Ttl, 3, CancellationToken.None, bucketName: bucket);
        await dying.AcquireAsync(CancellationToken.None);

        // The holder's connection is gone without a word, as when its process is killed.
        var died = DateTime.UtcNow;
        await a.DisposeAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await heir.AcquireAsync(deadline.Token);
        var takeover = DateTime.UtcNow - died;

        Assert.True(heir.Held);
        Assert.True(takeover >= Ttl * 0.5, $"taken over {takeover.TotalSeconds:0.0} s after the holder died, before its lease could have expired");
    }

    [Fact]
    public async Task A_holder_cut_off_from_the_cluster_gives_up_before_another_can_take_over()
    {
        // A longer lifetime than the others: the margin (a fifth of it) must hold on a busy machine.
        var ttl = Ttl * 2;
        var source = NewSource();
        var bucket = "lease-test-" + source;
        await using var b = cluster.Connect(cluster.UrlOf(1));
        await using var a = cluster.Connect(cluster.UrlOf(0));
        await using var cutOff = await JetStreamLease.OpenAsync(a, source, "cut-off", ttl, 3, CancellationToken.None, bucketName: bucket);
        await using var other = await JetStreamLease.OpenAsync(b, source, "other", ttl, 3, CancellationToken.None, bucketName: bucket);
        var held = await cutOff.AcquireAsync(CancellationToken.None);
        DateTimeOffset? gaveUp = null;
        held.Register(() => gaveUp = DateTimeOffset.UtcNow);

        // Its connection can no longer reach any server (a network partition): renewals fail.
        await a.DisposeAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await other.AcquireAsync(deadline.Token);
        var taken = DateTimeOffset.UtcNow;

        Assert.True(held.IsCancellationRequested, "the cut-off holder still believes it holds the lease");
        Assert.True(gaveUp < taken, "the cut-off holder gave up only after another process took over");
    }

    [Fact]
    public async Task Sources_spread_across_the_processes_and_come_back_to_the_one_left()
    {
        var prefix = "spread-" + Guid.NewGuid().ToString("N")[..8];
        string[] sources = ["s1", "s2", "s3", "s4"];
        using var stop = new CancellationTokenSource();
        await using var a = cluster.Connect(cluster.UrlOf(0));
        var b = cluster.Connect(cluster.UrlOf(1));
        await using var first = await JetStreamLeases.OpenAsync(a, "first", Ttl, 3, CancellationToken.None, prefix: prefix);
        var firstRuns = sources.Select(s => HoldWhileAsync(first.For(s), stop.Token)).ToList();
        await Eventually.UntilAsync(() => first.Held == 4, "the only process to apply every source");

        var second = await JetStreamLeases.OpenAsync(b, "second", Ttl, 3, CancellationToken.None, prefix: prefix);
        var secondRuns = sources.Select(s => HoldWhileAsync(second.For(s), stop.Token)).ToList();
        await Eventually.UntilAsync(() => first.Held == 2 && second.Held == 2, "two sources each", () => $"first {first.Held}, second {second.Held}", TimeSpan.FromSeconds(60));

        await b.DisposeAsync(); // the second process dies
        await Eventually.UntilAsync(() => first.Held == 4, "the first process to take every source back", () => $"first {first.Held}", TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await Task.WhenAll(firstRuns.Concat(secondRuns)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
    }

    /// <summary>As the coordinator does: take the lease, hold it until it is lost, take it again.</summary>
    private static async Task HoldWhileAsync(JetStreamLease lease, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var lost = await lease.AcquireAsync(ct);
            var gone = new TaskCompletionSource();
            using (lost.Register(() => gone.TrySetResult()))
            using (ct.Register(() => gone.TrySetResult()))
            {
                await gone.Task;
            }
        }
    }
}
