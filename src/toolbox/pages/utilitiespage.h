// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file Utilities page: the dataset tools (pair two folders into A|B images, split a folder of pairs into
/// train/val/test, check a dataset root) and the generator's ONNX export, with nectar-data's and
/// nectar-export's options. Pair and split have a Dry run that lists exactly the files the Run then writes;
/// every tool runs on a worker thread with progress and Stop (a stop leaves no half-written file: the engine
/// writes each file atomically). Errors are shown inline with the engine's message.

#include <QStringList>
#include <QWidget>

#include "bridge/evaluationbridge.h"

class BackgroundJob;
class InlineMessage;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListView;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QStringListModel;
class QTabWidget;

class UtilitiesPage : public QWidget {
    Q_OBJECT
public:
    enum class Tool { Pair, Split, Check };

    explicit UtilitiesPage(QWidget* parent = nullptr);
    ~UtilitiesPage() override;

    void setPairRequest(const engine::PairRequest& request);
    void setSplitRequest(const engine::SplitRequest& request);
    void setCheckRoot(const QString& dataroot);
    /// Runs a tool on the worker thread (`dryRun`: plans only; the check writes nothing either way). False,
    /// with an inline error, when another tool is running or a folder is missing.
    bool runTool(Tool tool, bool dryRun);
    void stop();
    bool isRunning() const;
    /// The files the last pair / split run wrote or would write (the list view's rows).
    QStringList writes() const;
    /// The last tool's report (unmatched / unreadable files, the check's summary).
    QString reportText() const;
    QString errorText() const;

    void setOnnxRequest(const engine::OnnxRequest& request);
    /// Exports on the worker thread; the result (path, nodes, bytes) or the error is shown inline.
    bool exportOnnx();
    QString onnxResultText() const;
    QString onnxErrorText() const;

Q_SIGNALS:
    void toolFinished(bool dryRun, bool stopped);
    void toolFailed(const QString& error);
    void exportFinished(const QString& path);
    void exportFailed(const QString& error);
    void statusMessage(const QString& text);

private:
    QWidget* buildPairTab();
    QWidget* buildSplitTab();
    QWidget* buildCheckTab();
    QWidget* buildExportTab();
    void onToolDone(const QVariant& result);
    void updateButtons();
    QPushButton* browseButton(QLineEdit* edit, bool file);

    QTabWidget* m_tabs;
    // pair
    QLineEdit* m_pairA;
    QLineEdit* m_pairB;
    QLineEdit* m_pairOutput;
    QSpinBox* m_pairSize;
    QComboBox* m_pairDirection;
    QCheckBox* m_pairIntoNonEmpty;
    // split
    QLineEdit* m_splitInput;
    QLineEdit* m_splitOutput;
    QDoubleSpinBox* m_splitTrain;
    QDoubleSpinBox* m_splitVal;
    QDoubleSpinBox* m_splitTest;
    QSpinBox* m_splitSeed;
    QCheckBox* m_splitMove;
    QCheckBox* m_splitIntoNonEmpty;
    // check
    QLineEdit* m_checkRoot;
    // shared by the dataset tools
    QList<QPushButton*> m_toolButtons; // Dry run / Run / Check
    QPushButton* m_stop;
    QProgressBar* m_progress;
    InlineMessage* m_message;
    QLabel* m_outcome;
    QStringListModel* m_writes;
    QListView* m_writesView;
    QPlainTextEdit* m_report;
    BackgroundJob* m_tool;
    bool m_dryRun = false;
    // export
    QLineEdit* m_onnxExperiment;
    QSpinBox* m_onnxEpoch;
    QLineEdit* m_onnxOutput;
    QSpinBox* m_onnxHeight;
    QSpinBox* m_onnxWidth;
    QSpinBox* m_onnxOpset;
    QCheckBox* m_onnxDynamicBatch;
    QPushButton* m_onnxExport;
    QLabel* m_onnxResult;
    InlineMessage* m_onnxMessage;
    BackgroundJob* m_export;
};
