namespace DeskSync.Tests.Support;

/// <summary>
/// Waits for a condition, not for a time: it is checked every few milliseconds, and the wait fails
/// only after a generous deadline, saying what it waited for (and what the process under test said).
/// </summary>
internal static class Eventually
{
    public static Task UntilAsync(Func<bool> condition, string what, Func<string>? context = null, TimeSpan? deadline = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, context, deadline);

    /// <summary>The same for a condition that must ask something (a database) to be checked.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, Func<string>? context = null, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(90));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, $"timed out waiting for {what}{(context is null ? "" : ":\n" + context())}");
            await Task.Delay(10);
        }
    }
}
