using DeskSync.Core;
using DeskSync.Core.Journal;
using DeskSync.Core.Locking;
using DeskSync.Cli.Config;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Auth;

namespace DeskSync.Cli;

/// <summary>Runs a command body and turns failures into one clear line and an exit code.</summary>
internal static class CommandRunner
{
    public const string Stopped = "Stopped; what was done is kept: run the same command again to continue.";

    public static async Task<int> RunAsync(TextWriter error, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (DataSourceBusyException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.Busy;
        }
        catch (JournalDamagedException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.Journal;
        }
        catch (SinkException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.Target;
        }
        catch (ConfigException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.Configuration;
        }
        catch (ZohoAuthException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return ex.IsTransient ? ExitCodes.Transient : ExitCodes.Authentication;
        }
        catch (ZohoApiException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return ex.Kind switch
            {
                ZohoFailureKind.Transient or ZohoFailureKind.RateLimited => ExitCodes.Transient,
                ZohoFailureKind.CreditsExhausted => ExitCodes.CreditsExhausted,
                ZohoFailureKind.AuthExpired => ExitCodes.Authentication,
                _ => ExitCodes.Configuration,
            };
        }
        catch (TaskCanceledException ex) when (ex.InnerException is TimeoutException)
        {
            await error.WriteLineAsync($"error: a call timed out ({ex.InnerException.Message.TrimEnd('.')}). Check the network and the data centre; run again to continue.");
            return ExitCodes.Transient;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync(Stopped);
            return ExitCodes.Interrupted;
        }
        catch (IOException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.Transient;
        }
        catch (UnauthorizedAccessException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message} Check the folder's permissions.");
            return ExitCodes.Configuration;
        }
        catch (Exception ex)
        {
            // Nobody foresaw it: one line with what happened, never a stack trace. What was
            // committed stays committed; running the same command again continues from there.
            await error.WriteLineAsync($"error: an unexpected failure ({ex.GetType().Name}: {ex.Message.TrimEnd('.')}). What was committed is kept; run the command again to continue, and if it recurs, report it with this line.");
            return ExitCodes.Unexpected;
        }
    }
}
