using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.Emulator.OpenApi;
using Microsoft.AspNetCore.Http;

namespace DeskSync.Emulator.Desk;

/// <summary>Writing answers: in their OpenAPI shape, search pages from pre-shaped items, errors in Zoho's error shape, and the broken bodies the fault injector asks for.</summary>
public sealed partial class DeskApi
{
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonObject, byte[]> _shapedSearchItems = [];

    /// <summary>
    /// A search item in its answer shape, as UTF-8 JSON. Stored records are immutable (an update
    /// stores a new object), so each is shaped once — except in a compact store, whose point is to
    /// hold each record once (and whose reads parse a new object each time).
    /// </summary>
    private byte[] ShapedItem(OpenApiOperation op, JsonObject record)
    {
        byte[] Shape(JsonObject r)
        {
            var schema = op.ResponseSchema(_catalog, "200", out var file)!;
            return JsonSerializer.SerializeToUtf8Bytes(_shaper.Shape(new JsonObject { ["data"] = new JsonArray(r.DeepClone()) }, schema, file)!["data"]![0], Json);
        }

        return _options.CompactStore ? Shape(record) : _shapedSearchItems.GetValue(record, Shape);
    }

    /// <summary>A search answer of already shaped items: <c>{"data":[…],"count":n}</c>, written without building one big string.</summary>
    private sealed record RenderedPage(List<byte[]> Items, int Count)
    {
        public static ReadOnlySpan<byte> Head => "{\"data\":["u8;

        public byte[] Tail() => Encoding.UTF8.GetBytes($"],\"count\":{Count.ToString(CultureInfo.InvariantCulture)}}}");
    }

    private async Task Write(HttpContext ctx, OpenApiOperation op, int status, object? body)
    {
        await Due(ctx);
        if (status == 404)
        {
            await Error(ctx, 404, "URL_NOT_FOUND", "The URL you requested could not be found.");
            return;
        }

        if (status == 422 && body is JsonObject problem)
        {
            Count("error:" + problem["errorCode"]);
            ctx.Response.StatusCode = 422;
            ctx.Response.ContentType = "application/json;charset=UTF-8";
            await ctx.Response.WriteAsync(problem.ToJsonString(Json));
            return;
        }

        ctx.Response.StatusCode = status;
        if (status == 204 || body is null)
        {
            return;
        }

        if (body is byte[] file)
        {
            ctx.Response.ContentType = "application/octet-stream";
            ctx.Response.ContentLength = file.Length;
            await ctx.Response.Body.WriteAsync(file);
            return;
        }

        ctx.Response.ContentType = "application/json;charset=UTF-8";
        if (ctx.Items.TryGetValue(BodyFaultKey, out var bodyFault))
        {
            await BrokenBodyAsync(ctx, op, body, (FaultKind)bodyFault!);
            return;
        }

        if (body is RenderedPage page)
        {
            var tail = page.Tail();
            ctx.Response.ContentLength = RenderedPage.Head.Length + page.Items.Sum(i => i.Length) + page.Items.Count - 1 + tail.Length;
            var writer = ctx.Response.BodyWriter;
            writer.Write(RenderedPage.Head);
            for (var i = 0; i < page.Items.Count; i++)
            {
                if (i > 0)
                {
                    writer.Write(","u8);
                }

                writer.Write(page.Items[i]);
            }

            writer.Write(tail);
            await writer.FlushAsync();
            return;
        }

        await ctx.Response.WriteAsync(Shaped(op, (JsonNode)body).ToJsonString(Json));
    }

    /// <summary>An answer in its OpenAPI shape.</summary>
    private JsonNode Shaped(OpenApiOperation op, JsonNode node) =>
        op.ResponseSchema(_catalog, "200", out var file) is { } schema ? _shaper.Shape(node, schema, file)! : node;

    /// <summary>The answer's headers and first half, then a cut connection or silence; or the whole body under a false or unasked-for Content-Encoding.</summary>
    private async Task BrokenBodyAsync(HttpContext ctx, OpenApiOperation op, object body, FaultKind fault)
    {
        Count("fault:" + fault);
        byte[] bytes = body is RenderedPage page
            ? [.. RenderedPage.Head, .. page.Items.SelectMany((item, i) => i == 0 ? item : [(byte)',', .. item]), .. page.Tail()]
            : Encoding.UTF8.GetBytes(Shaped(op, (JsonNode)body).ToJsonString(Json));

        if (fault is FaultKind.DeflatedBody or FaultKind.RawDeflatedBody)
        {
            using var deflated = new MemoryStream();
            await using (Stream deflater = fault == FaultKind.DeflatedBody ? new ZLibStream(deflated, CompressionLevel.Fastest, leaveOpen: true) : new DeflateStream(deflated, CompressionLevel.Fastest, leaveOpen: true))
            {
                await deflater.WriteAsync(bytes);
            }

            bytes = deflated.ToArray();
        }

        ctx.Response.ContentLength = bytes.Length;
        if (fault is not (FaultKind.CutBody or FaultKind.StallBody))
        {
            ctx.Response.Headers.ContentEncoding = fault switch
            {
                FaultKind.GarbledBody => "gzip",
                FaultKind.UnknownEncoding => "zstd",
                FaultKind.IdentityEncoding => "identity",
                _ => "deflate",
            };
            await ctx.Response.Body.WriteAsync(bytes);
            return;
        }

        await ctx.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
        await ctx.Response.Body.FlushAsync();
        if (fault == FaultKind.CutBody)
        {
            // Let the half leave first: an abort discards output not yet sent, and a connection
            // dropped before any answer is one the client's handler sends again unseen.
            await Task.Delay(100, ctx.RequestAborted);
            ctx.Abort();
            return;
        }

        try
        {
            await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client gave up, as it should.
        }
    }

    private async Task Error(HttpContext ctx, int status, string code, string message, JsonArray? errors = null)
    {
        await Due(ctx);
        Count("error:" + code);
        ctx.Response.StatusCode = status;
        if (!ctx.Response.Headers.ContainsKey("X-Rate-Limit-Request-Weight-v3"))
        {
            // A refused call costs nothing [G]; the headers are on every answer all the same.
            ctx.Response.Headers["X-Rate-Limit-Request-Weight-v3"] = "0";
            ctx.Response.Headers["X-Rate-Limit-Remaining-v3"] = _limits.Remaining.ToString(CultureInfo.InvariantCulture);
        }

        var body = new JsonObject { ["errorCode"] = code, ["message"] = message };
        if (errors is not null)
        {
            body["errors"] = errors;
        }

        ctx.Response.ContentType = "application/json;charset=UTF-8";
        await ctx.Response.WriteAsync(body.ToJsonString(Json));
    }

    private static JsonArray Field(string field, string type, string message) =>
        [new JsonObject { ["fieldName"] = field, ["errorType"] = type, ["errorMessage"] = message }];

    private static readonly object DueKey = new();

    private static readonly object BodyFaultKey = new();

    /// <summary>Until the call's latency has passed since it arrived (no wait without one).</summary>
    private static Task Due(HttpContext ctx) => ctx.Items.TryGetValue(DueKey, out var due) && due is Task task ? task : Task.CompletedTask;
}
