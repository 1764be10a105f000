using System.Net;
using System.Security.Cryptography.X509Certificates;
using DeskSync.Core.Journal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeskSync.ZohoDesk.Webhooks;

public sealed record WebhookServerOptions
{
    /// <summary>Where to listen for Zoho, e.g. http://0.0.0.0:80, https://0.0.0.0:443 (needs a certificate), http://127.0.0.1:0 (tests).</summary>
    public string Listen { get; init; } = "http://127.0.0.1:8080";

    /// <summary>Where /healthz and /metrics answer: a listener of their own, loopback by default, so that the public port serves the service URL only.</summary>
    public string AdminListen { get; init; } = "http://127.0.0.1:0";

    /// <summary>/healthz answers with each source's report (`{"status", "sources": {…}}`) however many there are; false: one source's report as it is.</summary>
    public bool ManySources { get; init; }

    /// <summary>The largest body the public listener takes (each receiver applies its own limit too).</summary>
    public long MaxBodyBytes { get; init; } = 1 << 20;

    /// <summary>A PKCS#12 certificate for https listening; else put DeskSync behind a TLS proxy.</summary>
    public string? CertificatePath { get; init; }

    public string? CertificatePassword { get; init; }
}

/// <summary>
/// The HTTP servers of one or many data sources (Kestrel): the public one serves each source's
/// service URL and nothing else a stranger could learn from (every other path and method, and
/// every method on a wrong token, is the same empty 404); the admin one, loopback by default,
/// serves /healthz and /metrics for all of them. Sources are added and removed while it runs.
/// </summary>
public sealed class WebhookServer : IAsyncDisposable
{
    private readonly WebApplication _public;
    private readonly WebApplication _admin;
    private readonly SourceRoutes _routes;

    private WebhookServer(WebApplication @public, WebApplication admin, SourceRoutes routes)
    {
        _public = @public;
        _admin = admin;
        _routes = routes;
    }

    /// <summary>The receiver of the server's only data source.</summary>
    public WebhookReceiver Receiver => _routes.Only.Receiver;

    /// <summary>The sources served, by name.</summary>
    public IReadOnlyCollection<string> Sources => _routes.Names;

    /// <summary>The public address (with the real port when 0 was asked).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Where /healthz and /metrics answer.</summary>
    public Uri AdminAddress { get; private set; } = null!;

    /// <summary>Starts a server for one data source.</summary>
    public static async Task<WebhookServer> StartAsync(WebhookServerOptions options, IJournal journal, WebhookReceiverOptions receiverOptions, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default, Func<string>? metrics = null, bool receive = true, Func<HealthReport>? health = null)
    {
        var server = await StartAsync(options with { MaxBodyBytes = receiverOptions.MaxBodyBytes }, cancellationToken);
        server.Add("default", new WebhookReceiver(journal, receiverOptions, loggers?.CreateLogger<WebhookReceiver>()), health, metrics, receive);
        return server;
    }

    /// <summary>Starts a server with no data source yet (<see cref="Add"/> adds them).</summary>
    public static async Task<WebhookServer> StartAsync(WebhookServerOptions options, CancellationToken cancellationToken = default)
    {
        var routes = new SourceRoutes { ManySources = options.ManySources };
        var @public = Build(options.Listen, options, options.MaxBodyBytes);
        @public.Map("/hooks/{token}", (HttpContext ctx, string token) => routes.Receiving(token) is { } r ? r.HandleAsync(ctx) : NotFound(ctx));
        @public.Map("/hooks/{token}/workflow", (HttpContext ctx, string token) => routes.Receiving(token) is { } r ? r.HandleWorkflowAsync(ctx) : NotFound(ctx));
        // Anything else, by any method: the same empty 404 as a wrong token.
        @public.MapFallback(NotFound);

        var admin = Build(options.AdminListen, options, 1 << 16);
        // 200 while degraded: the receiver journals while the target is away, so it must stay in
        // rotation; 503 only when events are no longer applied (the applier ended or is stuck).
        admin.MapGet("/healthz", () =>
        {
            var report = routes.Health();
            return Results.Json(report.Body, statusCode: report.HttpStatus);
        });
        admin.MapGet("/healthz/{source}", (string source) => routes.HealthOf(source) is { } report ? Results.Json(report, statusCode: report.HttpStatus) : Results.NotFound());
        admin.MapGet("/metrics", () => Results.Text(routes.Metrics(), "text/plain; version=0.0.4"));

        await @public.StartAsync(cancellationToken);
        try
        {
            await admin.StartAsync(cancellationToken);
        }
        catch
        {
            await @public.DisposeAsync();
            throw;
        }

        return new WebhookServer(@public, admin, routes)
        {
            Address = Actual(@public, options.Listen),
            AdminAddress = Actual(admin, options.AdminListen),
        };
    }

    /// <summary>Serves a data source: its service URL (when <paramref name="receive"/>), its health and its metrics.</summary>
    public void Add(string source, WebhookReceiver receiver, Func<HealthReport>? health, Func<string>? metrics, bool receive = true) =>
        _routes.Add(new SourceRoute(source, receiver, health, metrics, receive));

    /// <summary>Shows a data source as failing in /healthz with why (null: clears it), whether it is served or not.</summary>
    public void SetProblem(string source, string? problem) => _routes.SetProblem(source, problem);

    /// <summary>Stops serving a data source: its service URL answers 404 from now on.</summary>
    public bool Remove(string source) => _routes.Remove(source);

    private static Task NotFound(HttpContext ctx)
    {
        ctx.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    private static WebApplication Build(string listen, WebhookServerOptions options, long maxBody)
    {
        var uri = new Uri(listen);
        // No appsettings.json from the working directory and no file watching: that directory often
        // holds the SQLite target and the journal, and a watcher there woke up on every write.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        // The command owns Ctrl+C and SIGTERM: the host's console lifetime would also take them, stop
        // Kestrel on its own, and hold the process's exit until the host is disposed.
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, CommandOwnsLifetime>();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = maxBody;
            var address = uri.Host is "0.0.0.0" or "*" or "+" ? IPAddress.Any : uri.Host is "[::]" ? IPAddress.IPv6Any : IPAddress.Parse(uri.Host.Trim('[', ']'));
            k.Listen(address, uri.Port, listen =>
            {
                if (uri.Scheme == Uri.UriSchemeHttps)
                {
                    if (options.CertificatePath is null)
                    {
                        throw new InvalidOperationException("https needs a certificate (--cert); or listen on http behind a TLS proxy.");
                    }

                    listen.UseHttps(X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword));
                }
            });
        });
        return builder.Build();
    }

    private static Uri Actual(WebApplication app, string asked)
    {
        var uri = new Uri(asked);
        var actual = new Uri(app.Urls.First());
        return new UriBuilder(actual) { Host = uri.Host is "0.0.0.0" or "*" or "+" ? "127.0.0.1" : actual.Host }.Uri;
    }

    public async ValueTask DisposeAsync()
    {
        await _public.StopAsync();
        await _admin.StopAsync();
        await _public.DisposeAsync();
        await _admin.DisposeAsync();
    }
}

/// <summary>A host lifetime that leaves signals to the command running the server.</summary>
internal sealed class CommandOwnsLifetime : Microsoft.Extensions.Hosting.IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
