using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DeskSync.Tests.Support;

/// <summary>
/// A plain round-robin HTTP load balancer on loopback, as an operator would put in front of
/// several `desksync run` processes: each request goes to the next backend; one that cannot be
/// reached (its process killed) is skipped for that request; 502 when none answers.
/// </summary>
internal sealed class LoadBalancer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Lock _gate = new();
    private List<Uri> _backends = [];
    private int _next;

    private LoadBalancer(WebApplication app)
    {
        _app = app;
        app.Run(ForwardAsync);
    }

    public Uri Address { get; private set; } = null!;

    public static async Task<LoadBalancer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var balancer = new LoadBalancer(builder.Build());
        await balancer._app.StartAsync();
        balancer.Address = new Uri(balancer._app.Urls.First() + "/");
        return balancer;
    }

    public void SetBackends(IEnumerable<Uri> backends)
    {
        lock (_gate)
        {
            _backends = [.. backends];
        }
    }

    private async Task ForwardAsync(HttpContext ctx)
    {
        using var body = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(body);
        List<Uri> backends;
        int first;
        lock (_gate)
        {
            backends = _backends;
            first = _next++;
        }

        for (var i = 0; i < backends.Count; i++)
        {
            var backend = backends[(first + i) % backends.Count];
            using var request = new HttpRequestMessage(new HttpMethod(ctx.Request.Method), new Uri(backend, ctx.Request.Path.Value!.TrimStart('/') + ctx.Request.QueryString));
            if (body.Length > 0 || ctx.Request.Method == "POST")
            {
                request.Content = new ByteArrayContent(body.ToArray());
                if (ctx.Request.ContentType is { } type)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
                }
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, ctx.RequestAborted);
            }
            catch (HttpRequestException)
            {
                continue; // not reachable: the next one
            }

            using (response)
            {
                ctx.Response.StatusCode = (int)response.StatusCode;
                var bytes = await response.Content.ReadAsByteArrayAsync();
                ctx.Response.ContentLength = bytes.Length;
                await ctx.Response.Body.WriteAsync(bytes);
                return;
            }
        }

        ctx.Response.StatusCode = StatusCodes.Status502BadGateway;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
    }
}
