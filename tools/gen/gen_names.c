/*
 * gen_names.c
 *		Vocabulary of the simulated fleet: per language style, the words that
 *		make application function names, and the library call chains (entry
 *		points, CPU leaves, allocation sites) real programs of that kind show.
 *
 * Chains are written root-most first, frames separated by ';'.  "{svc}" is
 * replaced by the service name.
 */
#include <stddef.h>

#include "gen_model.h"

/* --- Go (checkout) ------------------------------------------------------ */

static const char *const go_packages[] = {
	"api", "order", "cart", "payment", "pricing", "inventory", "shipping",
	"tax", "promo", "fraud", "session", "catalog", "storage", "events", NULL
};
static const char *const go_types[] = {
	"Service", "Handler", "Client", "Repository", "Cache", "Validator",
	"Calculator", "Builder", "Publisher", "Store", NULL
};
static const char *const go_methods[] = {
	"Get", "List", "Create", "Update", "Apply", "Validate", "Compute", "Load",
	"Save", "Resolve", "Fetch", "Check", "Build", "Publish", "Reserve", "Quote",
	"Lookup", "Encode", "Refresh", "Merge", NULL
};
static const char *const go_roots[] = {
	"runtime.goexit;net/http.(*conn).serve;net/http.serverHandler.ServeHTTP;"
	"net/http.(*ServeMux).ServeHTTP;net/http.HandlerFunc.ServeHTTP;"
	"github.com/acme/{svc}/internal/api.(*Server).middleware.func1;"
	"github.com/acme/{svc}/internal/api.(*Server).route",
	"runtime.goexit;google.golang.org/grpc.(*Server).serveStreams.func1.2;"
	"google.golang.org/grpc.(*Server).handleStream;"
	"google.golang.org/grpc.(*Server).processUnaryRPC;"
	"github.com/acme/{svc}/internal/api._Checkout_PlaceOrder_Handler;"
	"github.com/acme/{svc}/internal/api.(*GRPCServer).PlaceOrder",
	"runtime.goexit;github.com/acme/{svc}/internal/worker.(*Pool).run;"
	"github.com/acme/{svc}/internal/worker.(*Pool).process",
	NULL
};
static const char *const go_gc_roots[] = {
	"runtime.goexit;runtime.gcBgMarkWorker;runtime.systemstack;"
	"runtime.gcBgMarkWorker.func2;runtime.gcDrain",
	"runtime.mcall;runtime.park_m;runtime.schedule;runtime.findRunnable",
	NULL
};
static const char *const go_gc_tails[] = {
	"runtime.scanobject;runtime.findObject",
	"runtime.scanobject;runtime.greyobject",
	"runtime.markroot;runtime.markroot.func1;runtime.scanstack;runtime.scanframeworker",
	"runtime.netpoll;runtime.epollwait",
	"runtime.stealWork;runtime.runqsteal;runtime.runqgrab",
	NULL
};
static const char *const go_tails[] = {
	"runtime.mallocgc;runtime.(*mcache).nextFree;runtime.(*mcache).refill;"
	"runtime.(*mcentral).cacheSpan",
	"runtime.newobject;runtime.mallocgc;runtime.heapBitsSetType",
	"runtime.makeslice;runtime.mallocgc;runtime.memclrNoHeapPointers",
	"runtime.mapaccess2_faststr;runtime.memequal",
	"runtime.mapassign_faststr;runtime.growWork_faststr;runtime.evacuate_faststr",
	"database/sql.(*DB).QueryContext;database/sql.(*DB).query;"
	"database/sql.(*DB).queryDC;github.com/jackc/pgx/v5/stdlib.(*Conn).QueryContext;"
	"github.com/jackc/pgx/v5/pgconn.(*PgConn).ExecParams;"
	"github.com/jackc/pgx/v5/pgconn.(*PgConn).flushWithPotentialWriteReadDeadlock;"
	"net.(*conn).Write;net.(*netFD).Write;internal/poll.(*FD).Write;syscall.Write;"
	"syscall.Syscall;runtime/internal/syscall.Syscall6",
	"net/http.(*response).Write;bufio.(*Writer).Write;net/http.(*chunkWriter).Write;"
	"net.(*conn).Write;internal/poll.(*FD).Write;syscall.Syscall",
	"crypto/tls.(*Conn).Write;crypto/tls.(*Conn).writeRecordLocked;"
	"crypto/tls.(*halfConn).encrypt;crypto/aes.(*gcmAsm).Seal;crypto/aes.gcmAesEnc",
	"github.com/redis/go-redis/v9.(*baseClient).process;"
	"github.com/redis/go-redis/v9.(*baseClient)._process;"
	"github.com/redis/go-redis/v9/internal/pool.(*Conn).WithReader;"
	"bufio.(*Reader).fill;net.(*conn).Read;internal/poll.(*FD).Read;syscall.Syscall",
	"fmt.Sprintf;fmt.(*pp).doPrintf;fmt.(*pp).printArg;strconv.AppendInt;strconv.formatBits",
	"strings.Split;strings.genSplit;strings.Index;internal/bytealg.IndexString",
	"sort.Slice;sort.pdqsort_func;sort.insertionSort_func;reflect.Swapper.func9",
	"go.uber.org/zap.(*Logger).Info;go.uber.org/zap.(*Logger).check;"
	"go.uber.org/zap/zapcore.(*ioCore).Write;"
	"go.uber.org/zap/zapcore.(*jsonEncoder).EncodeEntry;"
	"go.uber.org/zap/buffer.(*Buffer).AppendString",
	"regexp.(*Regexp).MatchString;regexp.(*Regexp).doExecute;"
	"regexp.(*Regexp).backtrack;regexp.(*bitState).push",
	"github.com/prometheus/client_golang/prometheus.(*histogram).Observe;"
	"github.com/prometheus/client_golang/prometheus.(*histogram).findBucket",
	"context.WithTimeout;context.WithDeadlineCause;time.AfterFunc;runtime.addtimer;runtime.lock2",
	"encoding/json.Unmarshal;encoding/json.(*decodeState).unmarshal;"
	"encoding/json.(*decodeState).value;encoding/json.(*decodeState).object;"
	"encoding/json.(*decodeState).literalStore",
	"encoding/json.Marshal;encoding/json.(*encodeState).marshal;"
	"encoding/json.(*encodeState).reflectValue;encoding/json.structEncoder.encode;"
	"encoding/json.stringEncoder;encoding/json.(*encodeState).string",
	"sync.(*Mutex).Lock;sync.(*Mutex).lockSlow;runtime.semacquire1;runtime.gopark",
	NULL
};
static const char *const go_alloc_tails[] = {
	"runtime.makeslice",
	"runtime.newobject",
	"runtime.makemap",
	"bytes.(*Buffer).grow;bytes.growSlice",
	"strings.(*Builder).grow",
	"encoding/json.Unmarshal;encoding/json.(*decodeState).object;reflect.MakeMapWithSize;runtime.makemap",
	"bufio.NewReaderSize",
	"github.com/jackc/pgx/v5/pgproto3.(*Frontend).Receive;"
	"github.com/jackc/pgx/v5/internal/iobufpool.Get;sync.(*Pool).Get;"
	"github.com/jackc/pgx/v5/internal/iobufpool.init.0.func1",
	"fmt.Sprintf;fmt.newPrinter;sync.(*Pool).Get",
	"runtime.growslice",
	NULL
};
static const char *const go_inline_helpers[] = {
	"strings.HasPrefix", "sync.(*Mutex).Unlock", "bytes.(*Buffer).Len",
	"unicode/utf8.RuneLen", "math.Abs", "time.Time.Unix",
	"sync/atomic.(*Int64).Load", "errors.Is", "strconv.Itoa",
	"github.com/acme/{svc}/internal/money.Amount.Add",
	"github.com/acme/{svc}/internal/order.(*Item).Price", NULL
};

/* --- Java (search) ------------------------------------------------------ */

static const char *const java_packages[] = {
	"index", "query", "rank", "api", "shard", "cache", "facet", "text", NULL
};
static const char *const java_types[] = {
	"Index", "QueryParser", "Ranker", "ShardRouter", "ResultCache",
	"FacetCounter", "SpellChecker", "Tokenizer", "Highlighter", "Scorer", NULL
};
static const char *const java_methods[] = {
	"lookup", "search", "score", "parse", "merge", "collect", "route", "rank",
	"filter", "expand", "highlight", "tokenize", "normalize", "load", "get", NULL
};
static const char *const java_roots[] = {
	"java/lang/Thread.run;org/eclipse/jetty/util/thread/QueuedThreadPool$Runner.run;"
	"org/eclipse/jetty/util/thread/strategy/AdaptiveExecutionStrategy.produce;"
	"org/eclipse/jetty/server/HttpChannel.handle;org/eclipse/jetty/server/Server.handle;"
	"org/springframework/web/servlet/FrameworkServlet.service;"
	"org/springframework/web/servlet/DispatcherServlet.doDispatch;"
	"com/acme/{svc}/api/SearchController.search",
	"java/lang/Thread.run;java/util/concurrent/ThreadPoolExecutor$Worker.run;"
	"java/util/concurrent/ThreadPoolExecutor.runWorker;"
	"com/acme/{svc}/index/IndexerTask.run",
	NULL
};
static const char *const java_gc_roots[] = {
	"Thread::call_run;GangWorker::run;G1ParTask::work;"
	"G1ParEvacuateFollowersClosure::do_void",
	"Thread::call_run;CompileBroker::compiler_thread_loop;"
	"CompileBroker::invoke_compiler_on_method;C2Compiler::compile_method;Compile::Compile",
	NULL
};
static const char *const java_gc_tails[] = {
	"G1ParScanThreadState::trim_queue;G1ParScanThreadState::copy_to_survivor_space",
	"G1ParScanThreadState::steal_and_trim_queue;GenericTaskQueueSet::steal_best_of_2",
	"Compile::Optimize;PhaseIdealLoop::build_and_optimize;PhaseIdealLoop::build_loop_late",
	"Compile::Code_Gen;PhaseChaitin::Register_Allocate",
	NULL
};
static const char *const java_tails[] = {
	"org/apache/lucene/search/IndexSearcher.search;"
	"org/apache/lucene/search/Weight$DefaultBulkScorer.score;"
	"org/apache/lucene/search/Weight$DefaultBulkScorer.scoreAll;"
	"org/apache/lucene/search/TopScoreDocCollector$SimpleTopScoreDocCollector$1.collect;"
	"org/apache/lucene/util/PriorityQueue.updateTop",
	"org/apache/lucene/codecs/lucene90/Lucene90PostingsReader$BlockDocsEnum.nextDoc;"
	"org/apache/lucene/codecs/lucene90/Lucene90PostingsReader$BlockDocsEnum.refillDocs;"
	"org/apache/lucene/codecs/lucene90/ForUtil.decode",
	"com/fasterxml/jackson/databind/ObjectMapper.writeValueAsString;"
	"com/fasterxml/jackson/databind/ObjectMapper._writeValueAndClose;"
	"com/fasterxml/jackson/databind/ser/DefaultSerializerProvider.serializeValue;"
	"com/fasterxml/jackson/databind/ser/BeanSerializer.serialize;"
	"com/fasterxml/jackson/core/json/WriterBasedJsonGenerator.writeString",
	"java/util/HashMap.get;java/util/HashMap.getNode;java/lang/String.equals",
	"java/lang/StringBuilder.append;java/lang/AbstractStringBuilder.ensureCapacityInternal;"
	"java/util/Arrays.copyOf",
	"java/util/regex/Matcher.find;java/util/regex/Matcher.search;"
	"java/util/regex/Pattern$Start.match;java/util/regex/Pattern$Slice.match",
	"sun/nio/ch/SocketChannelImpl.write;sun/nio/ch/IOUtil.write;"
	"sun/nio/ch/SocketDispatcher.write;sun/nio/ch/SocketDispatcher.write0;__write",
	"java/util/stream/ReferencePipeline.collect;java/util/stream/AbstractPipeline.evaluate;"
	"java/util/stream/ReduceOps$ReduceOp.evaluateSequential;java/util/ArrayList.forEach",
	"org/apache/lucene/util/automaton/RunAutomaton.step",
	"com/github/benmanes/caffeine/cache/BoundedLocalCache.computeIfAbsent;"
	"com/github/benmanes/caffeine/cache/BoundedLocalCache.afterRead;"
	"com/github/benmanes/caffeine/cache/FrequencySketch.increment",
	"java/lang/Object.hashCode",
	NULL
};
static const char *const java_alloc_tails[] = {
	"java/util/Arrays.copyOf",
	"java/lang/StringBuilder.toString;java/lang/StringLatin1.newString",
	"java/util/HashMap.resize",
	"org/apache/lucene/util/ArrayUtil.growExact",
	"java/util/ArrayList.grow;java/util/Arrays.copyOf",
	"com/fasterxml/jackson/core/util/BufferRecycler.allocCharBuffer",
	NULL
};
static const char *const java_inline_helpers[] = {
	"java/lang/Math.max", "java/util/ArrayList.size", "java/lang/String.length",
	"java/util/Objects.requireNonNull", "java/lang/Integer.valueOf",
	"com/acme/{svc}/query/Term.field", NULL
};

/* --- Python (cart) ------------------------------------------------------ */

static const char *const py_packages[] = {
	"api", "session", "pricing", "models", "promotions", "inventory", "storage",
	"serializers", NULL
};
static const char *const py_types[] = {
	"CartService", "LineItem", "PriceBook", "Basket", "Coupon", "StockClient",
	"Serializer", "TaxTable", NULL
};
static const char *const py_methods[] = {
	"get", "add_item", "remove_item", "total", "apply", "validate", "load",
	"save", "to_dict", "refresh", "merge", "lookup", "__init__", NULL
};
static const char *const py_roots[] = {
	"gunicorn.app.base:BaseApplication.run;gunicorn.arbiter:Arbiter.run;"
	"gunicorn.arbiter:Arbiter.spawn_worker;gunicorn.workers.sync:SyncWorker.run;"
	"gunicorn.workers.sync:SyncWorker.handle;gunicorn.workers.sync:SyncWorker.handle_request;"
	"flask.app:Flask.__call__;flask.app:Flask.wsgi_app;flask.app:Flask.full_dispatch_request;"
	"flask.app:Flask.dispatch_request;{svc}.api.views:cart_view",
	"threading:Thread._bootstrap;threading:Thread._bootstrap_inner;threading:Thread.run;"
	"celery.worker.consumer:Consumer.start;celery.app.trace:trace_task;"
	"{svc}.tasks.expire:expire_carts",
	NULL
};
static const char *const py_gc_roots[] = {
	"gunicorn.app.base:BaseApplication.run;gunicorn.arbiter:Arbiter.run;"
	"gunicorn.arbiter:Arbiter.sleep",
	NULL
};
static const char *const py_gc_tails[] = {
	"selectors:DefaultSelector.select",
	"gc:collect",
	NULL
};
static const char *const py_tails[] = {
	"json:dumps;json.encoder:JSONEncoder.encode;json.encoder:JSONEncoder.iterencode",
	"sqlalchemy.orm.query:Query.all;sqlalchemy.orm.query:Query._iter;"
	"sqlalchemy.orm.session:Session.execute;"
	"sqlalchemy.engine.base:Connection._execute_context;"
	"sqlalchemy.engine.default:DefaultDialect.do_execute;psycopg2.extensions:cursor.execute",
	"redis.client:Redis.execute_command;redis.connection:Connection.send_command;"
	"redis.connection:Connection.send_packed_command;socket:socket.sendall",
	"redis.client:Redis.execute_command;redis.client:Redis.parse_response;"
	"redis.connection:Connection.read_response;"
	"redis._parsers.resp2:_RESP2Parser._read_response;socket:socket.recv_into",
	"copy:deepcopy;copy:_deepcopy_dict;copy:_reconstruct",
	"pydantic.main:BaseModel.model_validate;pydantic._internal._model_construction:init_private_attributes",
	"logging:Logger.info;logging:Logger._log;logging:Logger.handle;"
	"logging:Handler.handle;logging:StreamHandler.emit;logging:StreamHandler.flush",
	"decimal:Decimal.quantize",
	"re:Pattern.match",
	"datetime:datetime.strftime",
	NULL
};
static const char *const py_alloc_tails[] = {
	"json.decoder:JSONDecoder.raw_decode",
	"copy:deepcopy;copy:_deepcopy_dict",
	"sqlalchemy.engine.result:Result.fetchall;sqlalchemy.engine.row:Row.__init__",
	"pickle:loads",
	"{svc}.models.line_item:LineItem.__init__",
	NULL
};

const GenStyle gen_styles[] = {
	[LANG_GO] = {
		go_packages, go_types, go_methods, go_roots, go_gc_roots, go_gc_tails,
		go_tails, go_alloc_tails, go_inline_helpers,
		"/app/server", "e3b0c44298fc1c149afbf4c8996fb924"
	},
	[LANG_JAVA] = {
		java_packages, java_types, java_methods, java_roots, java_gc_roots,
		java_gc_tails, java_tails, java_alloc_tails, java_inline_helpers,
		"/usr/lib/jvm/java-21-openjdk-amd64/lib/server/libjvm.so",
		"9f86d081884c7d659a2feaa0c55ad015"
	},
	[LANG_PYTHON] = {
		py_packages, py_types, py_methods, py_roots, py_gc_roots, py_gc_tails,
		py_tails, py_alloc_tails, NULL,
		"/usr/local/bin/python3.11", "60303ae22b998861bce3b28f33eec1be"
	},
};
