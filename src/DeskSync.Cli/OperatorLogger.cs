using Microsoft.Extensions.Logging;

namespace DeskSync.Cli;

/// <summary>
/// The receiver's, the applier's and the server's own messages (a journal that cannot write, a
/// delivery from another portal, a refused JWT) into the operator's log, in its format (text or
/// JSON). Warnings and errors carry their cause's message, never a stack trace.
/// </summary>
internal sealed class OperatorLoggerProvider : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new OperatorLogger(categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void Dispose()
    {
    }

    public static ILoggerFactory Factory() => LoggerFactory.Create(b => b.ClearProviders().SetMinimumLevel(LogLevel.Information).AddProvider(new OperatorLoggerProvider()));

    private sealed class OperatorLogger(string source) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var message = formatter(state, exception);
            if (exception is not null && !message.Contains(exception.Message, StringComparison.Ordinal))
            {
                message += ": " + exception.Message;
            }

            var level = logLevel switch
            {
                LogLevel.Warning => "warning",
                >= LogLevel.Error => "error",
                _ => "info",
            };
            OutputLog.Write(level, source, message, new Dictionary<string, object?> { ["source"] = source });
        }
    }
}
