using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace DeskSync.Nats;

/// <summary>
/// A replicated key-value bucket of leases: its store, the time to live its entries really have,
/// and its epoch — an id given when it was made, so that lease terms (the bucket's revisions) of a
/// bucket made anew are told apart from the old bucket's.
/// </summary>
internal sealed record LeaseBucket(INatsKVStore Store, TimeSpan Ttl, string Epoch)
{
    private const string Marker = "DeskSync leases ";

    /// <summary>The bucket <paramref name="name"/>, made (replicated, entries living <paramref name="ttl"/>) when missing.</summary>
    public static async Task<LeaseBucket> OpenAsync(INatsConnection connection, string name, TimeSpan ttl, int replicas, CancellationToken ct)
    {
        var kv = new NatsKVContext(new NatsJSContext((NatsConnection)connection));
        INatsKVStore store;
        try
        {
            store = await kv.GetStoreAsync(name, ct);
        }
        catch (Exception ex) when (ex is NatsKVException or NatsJSApiException { Error.Code: 404 })
        {
            try
            {
                store = await kv.CreateStoreAsync(new NatsKVConfig(name)
                {
                    Description = Marker + Guid.NewGuid().ToString("N"),
                    MaxAge = ttl,
                    History = 1,
                    NumberOfReplicas = replicas,
                    Storage = NatsKVStorageType.File,
                }, ct);
            }
            catch (NatsJSApiException)
            {
                // Another process made it at the same moment (with an epoch of its own): its bucket is the one.
                store = await kv.GetStoreAsync(name, ct);
            }
        }

        var config = (await store.GetStatusAsync(ct)).Info.Config;
        // A bucket made earlier keeps its own time to live: a holder must give up by that one.
        var lives = config.MaxAge is { } age && age > TimeSpan.Zero ? age : ttl;
        // A bucket made by hand has no id: its name stands for it.
        var epoch = config.Description is { } d && d.StartsWith(Marker, StringComparison.Ordinal) ? d[Marker.Length..] : config.Name ?? name;
        return new LeaseBucket(store, lives, epoch);
    }
}
