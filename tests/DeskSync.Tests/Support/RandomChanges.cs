using System.Text.Json.Nodes;
using DeskSync.Emulator;

namespace DeskSync.Tests.Support;

/// <summary>Seeded random creates, updates and deletes across the modules that have webhook events, and below tickets (threads, comments, attachments, time entries).</summary>
internal sealed class RandomChanges(ZohoDeskEmulator emulator, int seed, bool includePollOnlyModules = false)
{
    private static readonly string[] WebhookModules = ["tickets", "tickets", "tickets", "contacts", "accounts", "tasks", "calls", "events", "agents", "departments", "children", "children"];

    private static readonly string[] ChildKinds = ["threads", "comments", "attachments", "timeEntries", "tags"];
    private static readonly string[] AllModules = [.. WebhookModules, "products", "contracts"];
    private readonly string[] _modules = includePollOnlyModules ? AllModules : WebhookModules;
    private readonly Random _random = new(seed);

    public int Creates { get; private set; }

    public int Updates { get; private set; }

    public int Deletes { get; private set; }

    public async Task RunAsync(int count, TimeSpan pause)
    {
        for (var i = 0; i < count; i++)
        {
            Next();
            if (pause > TimeSpan.Zero && i % 10 == 0)
            {
                await Task.Delay(pause);
            }
        }
    }

    public void Next()
    {
        var portal = emulator.Portal;
        var module = _modules[_random.Next(_modules.Length)];
        if (module == "children")
        {
            NextChild();
            return;
        }

        var records = portal.List(module);
        var roll = _random.Next(10);
        if (roll < 3 || records.Count < 3)
        {
            portal.Create(module, new JsonObject { ["subject"] = $"created {_random.Next(100000)}" });
            Creates++;
        }
        else if (roll < 8 || module == "departments")
        {
            var id = records[_random.Next(records.Count)]["id"]!.GetValue<string>();
            var status = module == "calls" ? (_random.Next(2) == 0 ? "Scheduled" : "Completed") : _random.Next(2) == 0 ? "Open" : "Closed";
            var values = new JsonObject { ["status"] = status, ["description"] = $"edited {_random.Next(100000)}" };
            if (module is "tickets" or "contacts" or "accounts" or "tasks" or "products" or "contracts" or "calls" or "events")
            {
                values["cf"] = new JsonObject { ["cf_customer_refund_if_any"] = $"refund {_random.Next(1000)}", ["cf_order"] = _random.Next(10000).ToString(System.Globalization.CultureInfo.InvariantCulture) };
            }

            portal.Update(module, id, values);
            Updates++;
        }
        else
        {
            portal.Delete(module, records[_random.Next(records.Count)]["id"]!.GetValue<string>());
            Deletes++;
        }
    }

    /// <summary>A change below a random ticket: a new child, an edit, or a delete (which Zoho announces by no event).</summary>
    private void NextChild()
    {
        var portal = emulator.Portal;
        var tickets = portal.List("tickets");
        var ticketId = tickets[_random.Next(tickets.Count)]["id"]!.GetValue<string>();
        var kind = ChildKinds[_random.Next(ChildKinds.Length)];
        var children = portal.Children(kind, ticketId) ?? [];
        var roll = _random.Next(10);
        if (roll < 5 || children.Count == 0)
        {
            portal.AddChild(kind, ticketId, kind == "comments" ? new JsonObject { ["content"] = $"<div>note {_random.Next(100000)}</div>" } : null);
            Creates++;
        }
        else if (roll < 8)
        {
            var values = kind switch
            {
                "comments" => new JsonObject { ["content"] = $"<div>edited {_random.Next(100000)}</div>" },
                "timeEntries" => new JsonObject { ["description"] = $"edited {_random.Next(100000)}", ["minutesSpent"] = _random.Next(60).ToString(System.Globalization.CultureInfo.InvariantCulture) },
                "attachments" => new JsonObject { ["isPublic"] = _random.Next(2) == 0 },
                _ => new JsonObject { ["status"] = _random.Next(2) == 0 ? "SUCCESS" : "FAILED" },
            };
            portal.UpdateChild(kind, ticketId, children[_random.Next(children.Count)]["id"]!.GetValue<string>(), values);
            Updates++;
        }
        else
        {
            portal.DeleteChild(kind, ticketId, children[_random.Next(children.Count)]["id"]!.GetValue<string>());
            Deletes++;
        }
    }
}
