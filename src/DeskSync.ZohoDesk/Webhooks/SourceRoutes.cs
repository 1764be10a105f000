using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>A data source the server serves: its receiver (found by its service URL's token), health and metrics.</summary>
internal sealed record SourceRoute(string Name, WebhookReceiver Receiver, Func<HealthReport>? Health, Func<string>? Metrics, bool Receive);

/// <summary>
/// The data sources of one server. A request's token is looked up by its SHA-256 (so the time a
/// lookup takes says nothing about how much of a token was right), then compared in constant time.
/// /healthz of several sources answers 503 only when every one of them is failing: a process that
/// still receives for one source stays in the load balancer's rotation; the body names each.
/// </summary>
internal sealed class SourceRoutes
{
    private readonly ConcurrentDictionary<string, SourceRoute> _byName = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SourceRoute> _byToken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _problems = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Health in the shape of several sources even with one (a service whose sources come and go).</summary>
    public bool ManySources { get; init; }

    public IReadOnlyCollection<string> Names => [.. _byName.Keys.Order(StringComparer.Ordinal)];

    public SourceRoute Only => _byName.Count == 1 ? _byName.Values.First() : throw new InvalidOperationException($"The server serves {_byName.Count} data sources, not one.");

    public void Add(SourceRoute route)
    {
        lock (_gate)
        {
            var key = KeyOf(route.Receiver.Token);
            if (_byName.ContainsKey(route.Name))
            {
                throw new InvalidOperationException($"The data source {route.Name} is served already.");
            }

            if (_byToken.ContainsKey(key))
            {
                throw new InvalidOperationException($"The data source {route.Name} has the service URL token of another data source; give it its own (`desksync webhook url --new`).");
            }

            _byName[route.Name] = route;
            _byToken[key] = route;
        }
    }

    public bool Remove(string name)
    {
        lock (_gate)
        {
            if (!_byName.TryRemove(name, out var route))
            {
                return false;
            }

            _byToken.TryRemove(KeyOf(route.Receiver.Token), out _);
            return true;
        }
    }

    /// <summary>Marks a source failing with why (it stopped and is tried again), or clears it with null; a source not served at all is shown too.</summary>
    public void SetProblem(string name, string? problem)
    {
        if (problem is null)
        {
            _problems.TryRemove(name, out _);
        }
        else
        {
            _problems[name] = problem;
        }
    }

    /// <summary>The receiver of the source whose token this is, when it receives webhooks; else null.</summary>
    public WebhookReceiver? Receiving(string token) =>
        _byToken.TryGetValue(KeyOf(token), out var route) && route.Receive && ServiceUrlToken.Matches(route.Receiver.Token, token) ? route.Receiver : null;

    public HealthReport? HealthOf(string name) =>
        _problems.TryGetValue(name, out var problem) ? new HealthReport("failing", false, null, [problem])
        : _byName.TryGetValue(name, out var route) ? HealthOf(route) : null;

    private static HealthReport HealthOf(SourceRoute route) => route.Health?.Invoke() ?? new HealthReport("ok", false, null, []);

    private IReadOnlyList<string> AllNames => [.. _byName.Keys.Union(_problems.Keys).Order(StringComparer.Ordinal)];

    /// <summary>One source: its report as it is. Several: the worst status, and each source's report.</summary>
    public (object Body, int HttpStatus) Health()
    {
        var names = AllNames;
        if (names.Count == 1 && _problems.IsEmpty && !ManySources)
        {
            var only = HealthOf(names[0])!;
            return (only, only.HttpStatus);
        }

        var reports = names.ToDictionary(n => n, n => HealthOf(n)!, StringComparer.Ordinal);
        var statuses = reports.Values.Select(r => r.Status).ToList();
        var worst = statuses.Contains("failing") ? "failing" : statuses.Contains("degraded") ? "degraded" : "ok";
        var allFailing = statuses.Count > 0 && statuses.All(s => s == "failing");
        return (new MultiSourceHealth(worst, reports), allFailing ? 503 : 200);
    }

    /// <summary>One source: its metrics as they are. Several: each sample labelled with its source, each family once.</summary>
    public string Metrics()
    {
        var routes = _byName.Values.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
        return routes.Count == 1 && !ManySources
            ? routes[0].Metrics?.Invoke() ?? ""
            : MetricsMerge.Labelled(routes.Where(r => r.Metrics is not null).Select(r => (r.Name, r.Metrics!())));
    }

    private static string KeyOf(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

/// <summary>/healthz of a server with several data sources.</summary>
public sealed record MultiSourceHealth(string Status, IReadOnlyDictionary<string, HealthReport> Sources);
