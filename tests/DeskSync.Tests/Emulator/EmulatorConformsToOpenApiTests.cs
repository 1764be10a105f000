using System.Text.Json.Nodes;
using DeskSync.Emulator;
using DeskSync.Emulator.Desk;
using DeskSync.Emulator.OpenApi;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Emulator;

/// <summary>Every answer the emulator gives for a covered endpoint validates against Zoho's own OpenAPI response schema.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class EmulatorConformsToOpenApiTests
{
    private static readonly OpenApiCatalog Catalog = OpenApiCatalog.Instance;

    /// <summary>Every operation the emulator serves (each module's list, record and search), and the variants that shape answers differently.</summary>
    public static TheoryData<string, string> Endpoints
    {
        get
        {
            var data = new TheoryData<string, string>
            {
                { "getOrganizations", "organizations" },
                { "getOrganization", "organizations/{org}" },
                { "getTickets", "tickets?limit=20&include=contacts,products,departments,team,assignee" },
                { "getTicket", "tickets/{tickets}?include=contacts,products,assignee,team,departments" },
                { "searchTickets", "tickets/search?limit=100&sortBy=-modifiedTime" },
                { "getTicketsCount", "ticketsCount" },
            };
            foreach (var module in EmulatedModules.All)
            {
                data.Add(module.ListOperation, module.ListCap > 0 ? $"{module.Name}?limit={module.ListCap}" : module.Name);
                data.Add(module.RecordOperation, $"{module.Name}/{{{module.Name}}}");
                if (module.SearchOperation is { } search)
                {
                    data.Add(search, $"{module.Name}/search?limit=100&sortBy=createdTime");
                }
            }

            foreach (var child in EmulatedChildren.All)
            {
                var path = Catalog.Get(child.ListOperation).PathTemplate.Replace("/api/v1/", "", StringComparison.Ordinal);
                data.Add(child.ListOperation, path.Replace("{ticketId}", $"{{with:{child.Name}}}", StringComparison.Ordinal).Replace("{caseId}", $"{{with:{child.Name}}}", StringComparison.Ordinal) + (child.Paged ? "?limit=100" : ""));
            }

            data.Add("getThread", "tickets/{with:threads}/threads/{thread}");
            data.Add("getTicketHistory", "tickets/{changed}/History?limit=50");
            data.Add("getTicketsTags", "ticketTags?departmentId={departments}&limit=100");
            foreach (var module in new[] { "tickets", "contacts", "accounts", "tasks", "contracts", "products", "calls", "events" })
            {
                data.Add("getFields", $"organizationFields?module={module}");
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Answer_validates_against_the_OpenAPI_response_schema(string operationId, string pathTemplate)
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, AnswerSpread = 0 });
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();
        var path = "/api/v1/" + FillIds(pathTemplate, portal);

        var (status, body, response) = await raw.GetJsonAsync(path, token);
        using (response)
        {
            Assert.Equal(200, status);
            var op = Catalog.Get(operationId);
            Assert.Matches(op.PathRegex, new Uri("http://x" + path).AbsolutePath);
            var schema = op.ResponseSchema(Catalog, "200", out var file);
            Assert.NotNull(schema);
            var errors = new OpenApiValidator(Catalog).Validate(body, schema, file);
            Assert.True(errors.Count == 0, $"{operationId} {path}:\n{string.Join('\n', errors)}");
        }
    }

    [Fact]
    public async Task Error_answer_validates_against_the_OpenAPI_error_schema()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, AnswerSpread = 0 });
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();

        var (status, body, response) = await raw.GetJsonAsync("/api/v1/tickets/search?from=1000", token);
        response.Dispose();

        Assert.Equal(422, status);
        var schema = Catalog.Get("searchTickets").ResponseSchema(Catalog, "422", out var file);
        var errors = new OpenApiValidator(Catalog).Validate(body, schema!, file);
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    [Fact]
    public void Validator_rejects_an_answer_that_breaks_the_schema()
    {
        // The validator must be able to fail: a list item with a field Zoho's schema does not have,
        // and an id that is not digits.
        var op = Catalog.Get("getDepartments");
        var schema = op.ResponseSchema(Catalog, "200", out var file)!;
        var bad = JsonNode.Parse("""{"data":[{"id":"abc","name":"x","unexpected":1}]}""");

        var errors = new OpenApiValidator(Catalog).Validate(bad, schema, file);

        Assert.NotEmpty(errors);
    }

    private static string FillIds(string template, TestPortal portal)
    {
        foreach (var module in Portal.Modules)
        {
            var token = "{" + module + "}";
            if (template.Contains(token, StringComparison.Ordinal))
            {
                template = template.Replace(token, portal.Emulator.Portal.List(module)[0]["id"]!.GetValue<string>(), StringComparison.Ordinal);
            }
        }

        foreach (var child in EmulatedChildren.All)
        {
            // A ticket that has children of the kind, so that the answer has items to check.
            var token = $"{{with:{child.Name}}}";
            if (template.Contains(token, StringComparison.Ordinal))
            {
                var ticket = portal.Emulator.Portal.List("tickets").First(t => int.Parse(t[child.CountField]!.ToString(), System.Globalization.CultureInfo.InvariantCulture) > 0);
                template = template.Replace(token, ticket["id"]!.GetValue<string>(), StringComparison.Ordinal);
                if (child.Name == "threads")
                {
                    template = template.Replace("{thread}", portal.Emulator.Portal.Children("threads", ticket["id"]!.GetValue<string>())![0]["id"]!.GetValue<string>(), StringComparison.Ordinal);
                }
            }
        }

        if (template.Contains("{changed}", StringComparison.Ordinal))
        {
            // A ticket owned, moved on from Open, and changed through the emulator: its history has every kind of entry.
            var desk = portal.Emulator.Portal;
            var ticket = desk.List("tickets").First(t => t["assigneeId"] is not null && t["status"]!.GetValue<string>() != "Open")["id"]!.GetValue<string>();
            _ = desk.History(ticket);
            desk.Update("tickets", ticket, new JsonObject { ["status"] = "Closed", ["priority"] = "Low", ["assigneeId"] = desk.List("agents")[^1]["id"]!.DeepClone() });
            desk.AddChild("comments", ticket, null);
            template = template.Replace("{changed}", ticket, StringComparison.Ordinal);
        }

        return template.Replace("{org}", portal.Emulator.Portal.OrgId, StringComparison.Ordinal);
    }
}
