namespace DeskSync.ZohoDesk.Streams;

/// <summary>
/// The webhook events of a module (Webhook.json's subscription keys, facts page §5): the module's
/// event prefix ("Ticket" in Ticket_Add), the events DeskSync subscribes to, and the names a
/// workflow rule may give the module. Events about a record's children (Ticket_Thread_Add) name
/// the parent, whose record is read again.
/// </summary>
public sealed record StreamEvents(string Module, IReadOnlyList<string> Types)
{
    /// <summary>Module_Add, Module_Update and (unless Zoho has none) Module_Delete, with any extra events.</summary>
    public static StreamEvents Standard(string module, bool delete = true, params string[] extra) =>
        new(module, [$"{module}_Add", $"{module}_Update", .. delete ? [$"{module}_Delete"] : Array.Empty<string>(), .. extra]);

    /// <summary>Whether Zoho's workflow rules run on the module (they do not on agents and departments), so a rule's call may name its records.</summary>
    public bool HasWorkflowRules { get; init; } = true;

    /// <summary>The field a workflow rule's body names the record by: ticketId, contactId, …</summary>
    public string IdField => char.ToLowerInvariant(Module[0]) + Module[1..] + "Id";

    /// <summary>What a workflow rule may call the module: "ticket", "tickets".</summary>
    public IReadOnlyList<string> WorkflowNames => [Module.ToLowerInvariant(), Module.ToLowerInvariant() + "s"];
}
