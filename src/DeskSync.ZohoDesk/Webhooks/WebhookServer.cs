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
    /// <summary>Where to listen, e.g. http://0.0.0.0:80, https://0.0.0.0:443 (needs a certificate), http://127.0.0.1:0 (tests).</summary>
    public string Listen { get; init; } = "http://127.0.0.1:8080";

    /// <summary>A PKCS#12 certificate for https listening; else put DeskSync behind a TLS proxy.</summary>
    public string? CertificatePath { get; init; }

    public string? CertificatePassword { get; init; }
}

/// <summary>The HTTP server of the service URL (Kestrel): the receiver and /healthz.</summary>
public sealed class WebhookServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookServer(WebApplication app, WebhookReceiver receiver)
    {
        _app = app;
        Receiver = receiver;
    }

    public WebhookReceiver Receiver { get; }

    /// <summary>The address the server listens on (with the real port when 0 was asked).</summary>
    public Uri Address { get; private set; } = null!;

    public static async Task<WebhookServer> StartAsync(WebhookServerOptions options, DurableJournal journal, WebhookReceiverOptions receiverOptions, ILoggerFactory? loggers = null, CancellationToken cancellationToken = default, Func<string>? metrics = null, bool receive = true, Func<HealthReport>? health = null)
    {
        var uri = new Uri(options.Listen);
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
            k.Limits.MaxRequestBodySize = receiverOptions.MaxBodyBytes;
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
        var app = builder.Build();
        var receiver = new WebhookReceiver(journal, receiverOptions, loggers?.CreateLogger<WebhookReceiver>());
        if (receive)
        {
            receiver.Map(app);
        }

        // 200 while degraded: the receiver journals while the target is away, so it must stay in
        // rotation; 503 only when events are no longer applied (the applier ended or is stuck).
        app.MapGet("/healthz", () =>
        {
            var report = health?.Invoke() ?? new HealthReport("ok", false, null, []);
            return Results.Json(report, statusCode: report.HttpStatus);
        });
        if (metrics is not null)
        {
            app.MapGet("/metrics", () => Results.Text(metrics(), "text/plain; version=0.0.4"));
        }
        await app.StartAsync(cancellationToken);
        var server = new WebhookServer(app, receiver);
        var actual = new Uri(app.Urls.First());
        server.Address = new UriBuilder(actual) { Host = uri.Host is "0.0.0.0" or "*" or "+" ? "127.0.0.1" : actual.Host }.Uri;
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A host lifetime that leaves signals to the command running the server.</summary>
internal sealed class CommandOwnsLifetime : Microsoft.Extensions.Hosting.IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
