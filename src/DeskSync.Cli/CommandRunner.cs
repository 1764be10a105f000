using DeskSync.Cli.Config;
using DeskSync.Core;
using DeskSync.Core.Journal;
using DeskSync.Core.Locking;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Auth;

namespace DeskSync.Cli;

/// <summary>Runs a command body and turns failures into one clear line (in the --log format) and an exit code; never a stack trace.</summary>
internal static class CommandRunner
{
    public const string Stopped = "Stopped; what was done is kept: run the same command again to continue.";

    public static async Task<int> RunAsync(TextWriter error, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception ex)
        {
            var (code, message) = Explain(ex);
            if (OutputLog.Json)
            {
                OutputLog.Write(code == ExitCodes.Interrupted ? "info" : "error", code == ExitCodes.Interrupted ? "stopped" : "error", message,
                    new Dictionary<string, object?> { ["exitCode"] = code });
            }
            else
            {
                await error.WriteLineAsync(code == ExitCodes.Interrupted ? message : "error: " + message);
            }

            return code;
        }
    }

    internal static (int Code, string Message) Explain(Exception ex) => ex switch
    {
        DataSourceBusyException => (ExitCodes.Busy, ex.Message),
        JournalDamagedException => (ExitCodes.Journal, ex.Message),
        SinkException => (ExitCodes.Target, ex.Message),
        ConfigException => (ExitCodes.Configuration, ex.Message),
        ZohoAuthException auth => (auth.IsTransient ? ExitCodes.Transient : ExitCodes.Authentication, ex.Message),
        ZohoApiException api => (api.Kind switch
        {
            ZohoFailureKind.Transient or ZohoFailureKind.RateLimited => ExitCodes.Transient,
            ZohoFailureKind.CreditsExhausted => ExitCodes.CreditsExhausted,
            ZohoFailureKind.AuthExpired => ExitCodes.Authentication,
            _ => ExitCodes.Configuration,
        }, ex.Message),
        TaskCanceledException { InnerException: TimeoutException timeout } =>
            (ExitCodes.Transient, $"a call timed out ({timeout.Message.TrimEnd('.')}). Check the network and the data centre; run again to continue."),
        OperationCanceledException => (ExitCodes.Interrupted, Stopped),
        IOException => (ExitCodes.Transient, ex.Message),
        NATS.Client.Core.NatsException => (ExitCodes.Transient, $"the NATS servers of the journal did not answer ({ex.Message.TrimEnd('.')}); they are asked again."),
        UnauthorizedAccessException => (ExitCodes.Configuration, ex.Message + " Check the folder's permissions."),

        // Nobody foresaw it: one line with what happened. What was committed stays committed;
        // running the same command again continues from there.
        _ => (ExitCodes.Unexpected, $"an unexpected failure ({ex.GetType().Name}: {ex.Message.TrimEnd('.')}). What was committed is kept; run the command again to continue, and if it recurs, report it with this line."),
    };
}
