// `plumc map --hold`: the full engine (plum::Client) keeps the mapping
// alive (renewals, gateway restarts, address changes) until SIGINT or
// SIGTERM, then removes it from the router.
//
// Everything the main thread does happens on one io_context: the signals
// arrive through asio::signal_set (its signal handler only writes to a
// self-pipe; the work runs here, never in the handler), and the engine's
// callbacks, which run on the engine's thread, are posted here too, so that
// output stays in order and no state is shared between threads.
//
// The counters (Client::stats()) go to the status file that `plumc status`
// reads (status.hpp), on every change and every kStatusRefresh, and with
// --json also to stdout as {"stats":{...}} after each change and at exit.
#include "commands.hpp"

#include "output.hpp"
#include "status.hpp"
#include "status_os.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>


#include <csignal>
#include <thread>
#include <utility>
#include <vector>

namespace plum::plumc {

namespace {

using std::chrono::milliseconds;

class Holder {
public:
	explicit Holder(const Options &o)
	    : options_(o), signals_(io_, SIGINT, SIGTERM), stop_timer_(io_), refresh_timer_(io_),
	      timeout_(effective_timeout(o)), status_(status_dir(), current_pid()) {}

	int run() {
		signals_.async_wait([this](std::error_code ec, int signal) {
			if (!ec)
				on_signal(signal);
		});
		if (auto r = client_.init(make_config(options_)); !r) {
			report_error("map", r.error());
			return kExitFailure;
		}
		refresh();
		// The first result (or its error) comes through the future; every
		// change after it through the callback. Both are handed to our loop.
		auto future = client_.create_mapping(
		    options_.protocol, options_.internal_port,
		    options_.external_port.value_or(options_.internal_port), first_result_timeout(),
		    [this](int, State state, const Mapping &m) {
			    asio::post(io_, [this, state, m] { on_change(state, m); });
		    });
		// create_mapping's future is bounded by its own timeout (and
		// completes at once on cleanup), so this thread always ends.
		waiter_ = std::thread([this, f = std::move(future)]() mutable {
			Result<MappingResult> r = f.get();
			asio::post(io_, [this, r = std::move(r)] { on_first(r); });
		});

		auto work = asio::make_work_guard(io_);
		io_.run(); // until stop()
		refresh_timer_.cancel();
		// The last word on the counters, while the client still runs.
		if (options_.json)
			print("{\"stats\":" + stats_json(client_.stats()) + "}\n");
		status_.remove();

		// Whatever is left (a mapping still being created, or one the
		// router did not confirm deleting in time) goes now, bounded by the
		// engine's cleanup timeout.
		signals_.cancel();
		(void)client_.cleanup();
		waiter_.join();
		return exit_code_;
	}

private:
	milliseconds first_result_timeout() const {
		// The engine's discover round, then the map exchange.
		return timeout_ * 2 + milliseconds(1000);
	}

	void on_first(const Result<MappingResult> &r) {
		if (stopping_)
			return;
		if (!r) {
			report_error("map", r.error());
			exit_code_ = kExitFailure;
			stop();
			return;
		}
		id_ = r->id;
		print(format_state(State::Success, r->mapping, options_.json));
		publish(options_.json);
		for (auto &[state, m] : early_)
			on_change(state, m);
		early_.clear();
	}

	// Writes the status file (and with print, the stats line on stdout).
	void publish(bool print_line) {
		const Stats stats = client_.stats();
		const std::string json = stats_json(stats);
		if (print_line)
			print("{\"stats\":" + json + "}\n");
		if (auto r = status_.write(json, stats_text(stats)); !r && !status_failed_) {
			status_failed_ = true; // said once; plumc status will not list us
			if (options_.verbosity > 0)
				report_error("status file", r.error());
		}
	}

	// Keeps the status file fresh (ages, counters) between changes.
	void refresh() {
		if (!stopping_)
			publish(false);
		refresh_timer_.expires_after(kStatusRefresh);
		refresh_timer_.async_wait([this](std::error_code ec) {
			if (!ec)
				refresh();
		});
	}

	void on_change(State state, const Mapping &m) {
		// The engine hands out the first result before the next change, but
		// they reach this loop by two paths (the waiter thread, the engine
		// thread): keep the order they happened in.
		if (!id_ && !stopping_) {
			early_.emplace_back(state, m);
			return;
		}
		print(format_state(state, m, options_.json));
		if (state == State::Destroyed && stopping_) {
			io_.stop();
			return;
		}
		publish(options_.json);
	}

	void on_signal(int) {
		if (!stopping_)
			stop();
	}

	// Asks the router to delete the mapping and waits for DESTROYED,
	// bounded by the mapping timeout; cleanup() does the rest.
	void stop() {
		stopping_ = true;
		if (!id_ || !client_.has_mapping(*id_)) {
			io_.stop();
			return;
		}
		client_.destroy_mapping(*id_);
		stop_timer_.expires_after(timeout_ + milliseconds(1000));
		stop_timer_.async_wait([this](std::error_code ec) {
			if (!ec)
				io_.stop();
		});
	}

	const Options &options_;
	asio::io_context io_;
	asio::signal_set signals_;
	asio::steady_timer stop_timer_;
	asio::steady_timer refresh_timer_;
	milliseconds timeout_;
	StatusFile status_;
	bool status_failed_ = false;
	// Declared after io_: destroyed (and cleaned up) before the loop that
	// its callbacks post to.
	Client client_;
	std::thread waiter_;
	std::optional<int> id_;
	std::vector<std::pair<State, Mapping>> early_;
	bool stopping_ = false;
	int exit_code_ = kExitOk;
};

} // namespace

int run_map_hold(const Options &options) {
	Holder holder(options);
	return holder.run();
}

} // namespace plum::plumc
